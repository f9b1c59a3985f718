"""Statements of the per-message path, compiled once and run straight on the driver.

Every customer message and bot reply runs a handful of small statements. Through
``Connection.execute`` each one costs more Python in SQLAlchemy (cache key, execution
context, parameter processing, result metadata) than in the database: most of the
writer's time in a profile of the chat server. A :class:`Prepared` statement is
compiled once per driver and set of parameter names, its bind and result processors
are looked up once, and each run is one ``cursor.execute`` on the DBAPI connection of
the caller's transaction (the drivers keep the prepared statement: ``sqlite3``'s
statement cache, asyncpg's). The SQL text is the one SQLAlchemy would send.

Statements that need SQLAlchemy to compute values (Python-side column defaults) or
that expand lists run through ``Connection.execute`` as before.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import await_

Processor = Callable[[Any], Any] | None


class _Compiled:
    __slots__ = ("bind_processors", "binds", "columns", "direct", "results", "row", "sql")

    def __init__(self, statement: Any, connection: Connection, keys: Sequence[str]) -> None:
        dialect = connection.dialect
        # An INSERT of a whole table names its columns by the parameters given (as
        # ``Connection.execute`` does); other statements name their own parameters.
        column_keys = list(keys) if isinstance(statement, Insert) else None
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        # Python-side defaults, or a parameter list to expand: SQLAlchemy's own path.
        self.direct = not (
            compiled.insert_prefetch
            or compiled.update_prefetch
            or any(b.expanding for b in compiled.binds.values())
            or compiled.positiontup is None
        )
        processors = compiled._bind_processors
        # Per run, only the values that need one go through a processor (most are ints
        # and text): the positions of those, and each value's source.
        self.binds: list[tuple[str, Any]] = []
        self.bind_processors: list[tuple[int, Callable[[Any], Any]]] = []
        for position, name in enumerate(compiled.positiontup or ()):
            bind = compiled.binds[name]
            given = bind.key if bind.key in keys else None
            self.binds.append((given or "", None if given else bind.effective_value))
            process = cast(Processor, processors.get(name))  # a tuple only for a tuple-valued bind
            if process is not None:
                self.bind_processors.append((position, process))
        self.columns = [c.keyname for c in compiled._result_columns]
        self.results: list[tuple[int, Callable[[Any], Any]]] = [
            (position, process)
            for position, column in enumerate(compiled._result_columns)
            if (process := column.type._cached_result_processor(dialect, None)) is not None
        ]
        self.row: Any = namedtuple("row", self.columns, rename=True) if self.columns else None

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        out = [values[key] if key else constant for key, constant in self.binds]
        for position, process in self.bind_processors:
            value = out[position]
            if value is not None:
                out[position] = process(value)
        return tuple(out)

    def rows(self, raw: Sequence[Any]) -> list[Any]:
        assert self.row is not None
        make = self.row._make
        if not self.results:
            return [make(r) for r in raw]
        rows = []
        for r in raw:
            values = list(r)
            for position, process in self.results:
                value = values[position]
                if value is not None:
                    values[position] = process(value)
            rows.append(make(values))
        return rows


class Prepared:
    """One Core statement (see the module doc); ``first``, ``scalar`` and ``run`` run it."""

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, str, tuple[str, ...]], _Compiled] = {}

    def _for(self, connection: Connection, values: Mapping[str, Any]) -> _Compiled:
        # The names as given (a call site always gives them in one order; another order
        # compiles the same statement once more): a tuple is cheaper than a frozenset.
        dialect = connection.dialect
        key = (dialect.name, dialect.driver, tuple(values))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _Compiled(self.statement, connection, sorted(values))
        return compiled

    def all(self, connection: Connection, values: Mapping[str, Any]) -> list[Any]:
        """The rows (attributes by column name), or ``[]`` for a statement that returns none."""
        compiled = self._for(connection, values)
        if not compiled.direct:
            result = connection.execute(self.statement, dict(values))
            return list(result.all()) if compiled.row is not None else []
        parameters = compiled.parameters(values)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, parameters)
            return compiled.rows(cursor.fetchall()) if compiled.row is not None else []
        except connection.dialect.loaded_dbapi.Error as error:
            raise _wrapped(connection, cursor, error, compiled.sql, parameters) from error
        finally:
            cursor.close()

    def first(self, connection: Connection, values: Mapping[str, Any]) -> Any | None:
        rows = self.all(connection, values)
        return rows[0] if rows else None

    def scalar(self, connection: Connection, values: Mapping[str, Any]) -> Any | None:
        row = self.first(connection, values)
        return None if row is None else row[0]

    def run(self, connection: Connection, values: Mapping[str, Any]) -> None:
        self.all(connection, values)

    def first_each(self, connection: Connection, value_sets: Sequence[Mapping[str, Any]]) -> list[Any]:
        """The one row each set of values gives, in order. On asyncpg every run is sent at
        once (its pipelined ``fetchmany``: one round trip instead of one per set); a set
        that gives no row or several raises :class:`NotOneRowEach` (its runs are done: the
        caller's transaction must be rolled back)."""
        if not value_sets:
            return []
        compiled = self._for(connection, value_sets[0])
        if not compiled.direct or compiled.row is None or connection.dialect.driver != "asyncpg":
            rows = [self.all(connection, values) for values in value_sets]
            if any(len(found) != 1 for found in rows):
                raise NotOneRowEach(f"{len(value_sets)} runs gave {[len(found) for found in rows]} rows")
            return [found[0] for found in rows]
        parameters = [compiled.parameters(values) for values in value_sets]
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            raw = await_(_fetch_each(cursor, compiled.sql, parameters))
        except connection.dialect.loaded_dbapi.Error as error:
            raise _wrapped(connection, cursor, error, compiled.sql, parameters) from error
        finally:
            cursor.close()
        if len(raw) != len(value_sets):
            raise NotOneRowEach(f"{len(value_sets)} runs gave {len(raw)} rows")
        return compiled.rows(raw)

    def run_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """The statement once per row, in order, in one driver call (no results)."""
        if not rows:
            return
        compiled = self._for(connection, rows[0])
        if not compiled.direct or compiled.row is not None:
            connection.execute(self.statement, [dict(r) for r in rows])
            return
        parameters = [compiled.parameters(r) for r in rows]
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(compiled.sql, parameters)
        except connection.dialect.loaded_dbapi.Error as error:
            raise _wrapped(connection, cursor, error, compiled.sql, parameters) from error
        finally:
            cursor.close()


class NotOneRowEach(Exception):
    """A set of values of ``Prepared.first_each`` gave no row or several."""


async def _fetch_each(cursor: Any, sql: str, parameters: list[tuple[Any, ...]]) -> list[Any]:
    """asyncpg's pipelined ``fetchmany`` in the transaction of SQLAlchemy's adapted
    connection, as the adapter's own ``executemany`` runs (its lock, its lazily begun
    transaction, its error translation)."""
    adapted = cursor._adapt_connection
    async with adapted._execute_mutex:
        await adapted._check_type_cache_invalidation(cursor._invalidate_schema_cache_asof)
        if adapted._transaction is None:
            await adapted._start_transaction()
        try:
            return list(await adapted._connection.fetchmany(sql, parameters))
        except Exception as error:  # translated to the DBAPI's errors, as the adapter does
            cursor._handle_exception(error)
            raise  # not reached: the adapter raises the translated error


def _wrapped(connection: Connection, cursor: Any, error: Any, sql: str, parameters: Any) -> Exception:
    """The driver's error as SQLAlchemy raises it (``IntegrityError`` for a unique
    violation, the SQLSTATE kept for the conflict retries); a lost connection is
    dropped from the pool, as SQLAlchemy's own path does."""
    disconnect = connection.dialect.is_disconnect(error, connection.connection, cursor)
    if disconnect:
        connection.invalidate(error)
    wrapped: Exception = DBAPIError.instance(
        sql, parameters, error, connection.dialect.loaded_dbapi.Error, connection_invalidated=disconnect
    )
    return wrapped
