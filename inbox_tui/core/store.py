"""The store: async engines and transactions over SQLite (WAL) or PostgreSQL.

SQLite: writes use ``BEGIN IMMEDIATE`` so that two processes never both read and then
both try to upgrade to a write lock (which SQLite answers with an immediate
"database is locked"); a busy timeout makes the loser wait instead. Reads use a
deferred transaction on a second engine so the TUI never blocks a writer.

Within one process, SQLite writers also queue on an asyncio lock before they BEGIN: a
connection that finds the file locked sleeps in SQLite's busy handler with a growing
back-off (1, 2, 5 … 100 ms) and misses the moment the lock is freed, which under a busy
server turned milliseconds of work into seconds of waiting. The busy timeout still
covers writers in other processes.

``run_write``/``run_read`` run a synchronous Core function as one transaction. On SQLite
the whole transaction is one call into a worker thread over the plain ``sqlite3``
driver, where through aiosqlite every cursor, execute, fetch and close is a hop to its
thread and back; the chat server's per-message flows use it. On PostgreSQL it runs on
the async engine like everything else.

Group commit, on both: the writes that queue up while one transaction is under way go
into the next one together (``events.run_as_one``: their events last, one order lock
and one NOTIFY per commit on PostgreSQL), and each caller hears of its own write only
once that transaction has committed. Should one of them fail, the group is rolled back
and each write runs again in a transaction of its own, so a failure undoes only its own
work and its error goes to its own caller; a failed commit fails them all. PostgreSQL
runs a few groups at once (``PG_WRITE_GROUPS``); each takes its conversations' row locks
in ascending id order (``run_write``'s ``conversation_id``), so two groups wait for one
another but never deadlock. SQLite's writer thread takes each group from the queue itself
as the last one commits, and hands each commit's outcome to the event loop as it goes:
no hop to the loop and back between two groups, which under load left the one writer
idle for a third of its time. It lets go of the write lock after the group under way
when an ORM write session (``write``) waits for it.

Lock order. Every flow that touches a conversation and its ticket locks the
conversation row first, then the ticket row (``lock_conversation_and_ticket`` in
``conversations``), and appends its events last (the event log's order lock): a
customer message, a bot reply, a teammate's reply or note, Allow AI replies, reassign,
takeover and escalation, the handoff and the summary. On PostgreSQL the locks are
explicit (``SELECT … FOR NO KEY UPDATE``, which still lets foreign keys be checked
against the row); SQLite serializes writers with ``BEGIN IMMEDIATE``. Should a flow
still meet a serialization failure or a deadlock, it runs again from the start
(``retry_conflicts``, bounded); a database error that escapes a teammate's flow
becomes a ``StoreError`` (``teammate_flow``), which the inbox shows.

SQLite's log is copied into the database file mostly by a thread beside the writer; a
commit checkpoints by itself only every few thousand pages (``core.wal_checkpoints``).

After every committed write, the store calls its commit listeners itself
(``add_commit_listener``): the node's event feed looks at the log at once, whoever
wrote. A SQLite write group also hands them the events it appended, ids included, so
the feed publishes those without reading them back (on PostgreSQL several groups and
nodes commit at once, and the feed reads the log after each NOTIFY).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, TypeVarTuple

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from inbox_tui.core import events
from inbox_tui.core.database_url import parse_database_url
from inbox_tui.core.json_text import json_text, json_value
from inbox_tui.core.wal_checkpoints import WRITER_AUTOCHECKPOINT_PAGES, WalCheckpointer

Clock = Callable[[], datetime]
Ts = TypeVarTuple("Ts")
T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
#: How a SQLite write transaction begins (see the module doc).
WRITE_BEGIN = "BEGIN IMMEDIATE"
#: How often a flow runs again after a serialization failure or deadlock.
MAX_CONFLICT_ATTEMPTS = 6
#: SQLSTATEs of a transaction PostgreSQL aborted to let another one through.
_CONFLICT_SQLSTATES = frozenset({"40001", "40P01"})

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _configure_sqlite(engine: Engine, begin: str) -> None:
    writes = begin == WRITE_BEGIN

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN is ours (see module doc).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if writes:
            # Less often than SQLite's 1,000 pages: the store's WalCheckpointer copies the
            # log meanwhile, off the write path (see core.wal_checkpoints).
            cursor.execute(f"PRAGMA wal_autocheckpoint={WRITER_AUTOCHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)


#: Both SQLite engines' JSON columns (the event payloads) through ``core.json_text``.
_SQLITE_JSON: dict[str, Any] = {"json_serializer": json_text, "json_deserializer": json_value}


def _sqlite_engine(url: URL, begin: str) -> AsyncEngine:
    engine = create_async_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        pool_size=4,
        max_overflow=8,
        **_SQLITE_JSON,
    )
    _configure_sqlite(engine.sync_engine, begin)
    return engine


_Outcome = tuple[bool, Any]  # (True, result) or (False, the exception)
CommitListener = Callable[[Sequence[events.AppendedEvent] | None], None]
#: Most writes grouped into one commit.
MAX_GROUP_COMMIT = 64
#: Write groups in flight at once on PostgreSQL (SQLite has one writer): each statement
#: is a round trip to the server, so one group at a time would leave both sides idle.
PG_WRITE_GROUPS = 4


class _GroupDone(NamedTuple):
    outcomes: list[_Outcome]
    #: The events the group's commit appended, when known (see ``add_commit_listener``).
    appended: list[events.AppendedEvent] | None


class _SqliteWorker:
    """A plain ``sqlite3`` engine used from one worker thread of its own."""

    def __init__(self, url: URL, begin: str, name: str) -> None:
        self.engine = create_engine(
            url.set(drivername="sqlite+pysqlite"),
            pool_size=1,
            max_overflow=0,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **_SQLITE_JSON,
        )
        _configure_sqlite(self.engine, begin)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, self._transaction, work, args)

    def _transaction(self, work: Callable[..., T], args: tuple[Any, ...]) -> T:
        with self.engine.begin() as connection:
            return work(connection, *args)

    def _group(self, works: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> _GroupDone:
        """All works in one transaction, else each alone (see the module doc; savepoints
        around each work cost more than the rare rerun). The events appended are known
        when the works ran as one (each alone, the listeners read the log)."""
        appended: list[events.AppendedEvent] = []
        try:
            with self.engine.begin() as connection:
                results = events.run_as_one(connection, works, appended)
            return _GroupDone([(True, result) for result in results], appended)
        except Exception as error:  # noqa: BLE001 - one of them failed: each on its own below
            if len(works) == 1:
                return _GroupDone([(False, error)], [])
        outcomes: list[_Outcome] = []
        for work, args in works:
            try:
                outcomes.append((True, self._transaction(work, args)))
            except Exception as error:  # noqa: BLE001 - handed to its caller
                outcomes.append((False, error))
        return _GroupDone(outcomes, None)

    async def drain(self, drain: _Drain) -> None:
        await asyncio.get_running_loop().run_in_executor(self.executor, self._drain, drain)

    def _drain(self, drain: _Drain) -> None:
        """Write groups back to back from the queue (see the module doc), each handed to
        the event loop as it commits, until the queue is empty or the drain is asked to
        stop. A group is taken as it is about to run: it holds everything queued meanwhile."""
        queue = drain.queue
        while queue and not drain.should_stop():
            group: list[_QueuedWrite] = []
            while queue and len(group) < MAX_GROUP_COMMIT:
                item = queue.popleft()  # this thread is the only one that takes (see Store)
                if not item.future.done():  # a caller that gave up
                    group.append(item)
            if not group:
                continue
            drain.in_flight = group
            done = self._group([(item.work, item.args) for item in group])  # it answers every work
            drain.in_flight = []
            try:
                drain.deliver(group, done)
            except RuntimeError:  # the event loop is closed: nobody waits for these any more
                return

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.engine.dispose()


class _QueuedWrite(NamedTuple):
    work: Callable[..., Any]
    args: tuple[Any, ...]
    future: asyncio.Future[Any]
    conversation_id: int


class _Drain:
    """One run of the SQLite writer's loop over the queue (``_SqliteWorker._drain``):
    what it takes from, where it hands each group's outcome, and when it stops."""

    def __init__(
        self,
        queue: deque[_QueuedWrite],
        deliver: Callable[[list[_QueuedWrite], _GroupDone], object],
        others_waiting: Callable[[], bool],
    ) -> None:
        self.queue = queue
        self.deliver = deliver
        self.others_waiting = others_waiting
        self.stopped = False
        self.in_flight: list[_QueuedWrite] = []

    def should_stop(self) -> bool:
        return self.stopped or self.others_waiting()


def _answer(writes: Sequence[_QueuedWrite], outcomes: Sequence[_Outcome]) -> None:
    """Each write's caller hears its outcome (a caller that gave up is not told)."""
    for item, (ok, value) in zip(writes, outcomes, strict=True):
        if not item.future.done():
            if ok:
                item.future.set_result(value)
            else:
                item.future.set_exception(value)


class Store:
    """One database: a write engine, a read engine (the same one on PostgreSQL) and a clock."""

    def __init__(self, database_url: str, clock: Clock = utc_now) -> None:
        self.url = parse_database_url(database_url)
        self.clock = clock
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            Path(self.url.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.write_engine = _sqlite_engine(self.url, WRITE_BEGIN)
            self.read_engine = _sqlite_engine(self.url, "BEGIN")
        else:
            self.write_engine = create_async_engine(self.url, pool_size=5, max_overflow=10, pool_pre_ping=True)
            self.read_engine = self.write_engine
        self._group_engine: AsyncEngine | None = None
        self._sqlite_writer: _SqliteWorker | None = None
        self._sqlite_reader: _SqliteWorker | None = None
        # Appended to on the event loop; on SQLite the writer thread takes from it (a
        # deque: append and popleft are each atomic).
        self._queued_writes: deque[_QueuedWrite] = deque()
        self._sessions_waiting = 0  # ORM write sessions waiting for the SQLite write lock
        self._write_flushers: set[asyncio.Task[None]] = set()
        self._write_lock: asyncio.Lock | None = None
        self._write_lock_loop: asyncio.AbstractEventLoop | None = None
        self._write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False)
        self._commit_listeners: list[CommitListener] = []
        self._checkpointer = self._new_checkpointer()

    def now(self) -> datetime:
        return self.clock()

    def add_commit_listener(self, listener: CommitListener) -> None:
        """Call ``listener(appended)`` after every write transaction this store commits:
        ``appended`` holds the events the commit appended, ids included, where the store
        knows them (a SQLite write group; possibly none), else None (read the log)."""
        self._commit_listeners.append(listener)

    def remove_commit_listener(self, listener: CommitListener) -> None:
        with contextlib.suppress(ValueError):
            self._commit_listeners.remove(listener)

    def _new_checkpointer(self) -> WalCheckpointer | None:
        if not (self.is_sqlite and self.url.database):
            return None
        return WalCheckpointer(self.url.database, busy_timeout_seconds=SQLITE_BUSY_TIMEOUT_MS / 1000)

    def _committed(self, appended: Sequence[events.AppendedEvent] | None = None) -> None:
        if self._checkpointer is not None:
            self._checkpointer.committed()
        for listener in list(self._commit_listeners):
            try:
                listener(appended)
            except Exception:
                log.exception("a commit listener failed")

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed on success, rolled back on any error."""
        if not self.is_sqlite:
            async with self._write_sessions() as session, session.begin():
                yield session
            self._committed()
            return
        lock = self._sqlite_write_lock()
        self._sessions_waiting += 1  # the writer thread lets go of the lock after its group
        try:
            await lock.acquire()
        finally:
            self._sessions_waiting -= 1
        try:
            async with self._write_sessions() as session, session.begin():
                yield session
        finally:
            lock.release()
        self._committed()

    def _sqlite_write_lock(self) -> asyncio.Lock:
        # One lock per event loop: a store may outlive the loop that first used it (tests).
        loop = asyncio.get_running_loop()
        if self._write_lock is None or self._write_lock_loop is not loop:
            self._write_lock, self._write_lock_loop = asyncio.Lock(), loop
        return self._write_lock

    async def run_write(
        self, work: Callable[[Connection, *Ts], T], *args: *Ts, conversation_id: int | None = None
    ) -> T:
        """``work(connection, *args)``, synchronous SQLAlchemy Core, as one write
        transaction: committed on success, rolled back on any error (see module doc).
        ``conversation_id``: the conversation whose row lock the work takes (its first
        lock), so that a write group takes them in order."""
        # Group commit (see the module doc).
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queued_writes.append(_QueuedWrite(work, args, future, conversation_id or 0))
        self._write_flushers = {task for task in self._write_flushers if not task.done()}
        if len(self._write_flushers) < (1 if self.is_sqlite else PG_WRITE_GROUPS):
            self._write_flushers.add(loop.create_task(self._flush_writes(), name="group-commit"))
        return await future

    @staticmethod
    async def _run_write_once(store: Store, work: Callable[..., T], *args: Any) -> T:
        async with store.write() as session:
            connection = await session.connection()
            return await connection.run_sync(work, *args)

    async def _run_group(self, works: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> list[_Outcome]:
        """One PostgreSQL write group (SQLite's run in its writer thread: ``_flush_sqlite_writes``)."""
        try:
            async with self._unpinged_engine().begin() as connection:
                results = await connection.run_sync(events.run_as_one, works)
            self._committed()
            return [(True, result) for result in results]
        except Exception as error:  # noqa: BLE001 - one of them failed (or a conflict): each on its own below
            lost = isinstance(error, DBAPIError) and error.connection_invalidated
            if len(works) == 1 and not lost and not is_conflict(error):
                return [(False, error)]
        outcomes: list[_Outcome] = []
        for work, args in works:
            try:
                outcomes.append((True, await _run_write_retried(self, work, *args)))
            except Exception as error:  # noqa: BLE001 - handed to its caller
                outcomes.append((False, error))
        return outcomes

    def _unpinged_engine(self) -> AsyncEngine:
        """PostgreSQL connections for the write groups and ``run_read``, without the
        pool's pre-ping (on asyncpg a BEGIN, a query and a ROLLBACK before every
        transaction). A connection lost meanwhile fails that one transaction; the work
        then runs again on the shared, pinged engine."""
        if self._group_engine is None:
            self._group_engine = create_async_engine(self.url, pool_size=PG_WRITE_GROUPS + 1, max_overflow=2)
        return self._group_engine

    async def _flush_sqlite_writes(self) -> None:
        loop = asyncio.get_running_loop()

        def settle(group: list[_QueuedWrite], done: _GroupDone) -> None:  # in the writer thread
            loop.call_soon_threadsafe(self._settle, group, done)

        while self._queued_writes:
            async with self._sqlite_write_lock():
                if self._sqlite_writer is None:
                    self._sqlite_writer = _SqliteWorker(self.url, WRITE_BEGIN, "sqlite-writer")
                drain = _Drain(self._queued_writes, settle, lambda: self._sessions_waiting > 0)
                try:
                    await self._sqlite_writer.drain(drain)
                except asyncio.CancelledError:
                    drain.stopped = True  # after the group under way, whose callers are told now
                    for item in drain.in_flight:
                        item.future.cancel()
                    raise
                except Exception as error:  # noqa: BLE001 - the writer was closed under it (Store.close)
                    # No drain runs now (the writer's one thread has stopped): what is
                    # queued fails here rather than waiting for a writer that is gone.
                    queued = [self._queued_writes.popleft() for _ in range(len(self._queued_writes))]
                    _answer(queued, [(False, error)] * len(queued))

    def _settle(self, group: list[_QueuedWrite], done: _GroupDone) -> None:
        """On the event loop, in commit order: the listeners, then each write's caller."""
        if any(ok for ok, _ in done.outcomes):
            self._committed(done.appended)
        _answer(group, done.outcomes)

    async def _flush_writes(self) -> None:
        if self.is_sqlite:
            await self._flush_sqlite_writes()
            return
        queue = self._queued_writes
        while queue:
            group = [queue.popleft() for _ in range(min(len(queue), MAX_GROUP_COMMIT))]
            group = [item for item in group if not item.future.done()]  # callers that gave up
            if not group:
                continue
            # The one lock order between groups (see the module doc); a conversation's
            # own writes keep their order (the sort is stable).
            group.sort(key=lambda item: item.conversation_id)
            try:
                outcomes = await self._run_group([(item.work, item.args) for item in group])
            except asyncio.CancelledError:
                for item in group:
                    item.future.cancel()
                raise
            except Exception as error:  # noqa: BLE001 - the commit failed: every write of the group did
                outcomes = [(False, error)] * len(group)
            _answer(group, outcomes)

    async def run_read(self, work: Callable[[Connection, *Ts], T], *args: *Ts) -> T:
        """``work(connection, *args)``: a read of one statement (it follows every commit).

        On PostgreSQL it runs in autocommit: under READ COMMITTED a statement sees its own
        snapshot either way, and a transaction around it would cost a BEGIN and a ROLLBACK,
        each a round trip. A work of several statements gets no common snapshot here."""
        if not self.is_sqlite:
            try:
                return await _in_autocommit(self._unpinged_engine(), work, *args)
            except DBAPIError as error:
                if not error.connection_invalidated:
                    raise
            return await _in_autocommit(self.read_engine, work, *args)  # pre-pinged: a live connection
        if self._sqlite_reader is None:
            self._sqlite_reader = _SqliteWorker(self.url, "BEGIN", "sqlite-reader")
        return await self._sqlite_reader.run(work, args)

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read_sessions() as session, session.begin():
            yield session

    async def close(self) -> None:
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.close)
            self._checkpointer = self._new_checkpointer()  # for a store used again after its close
        for worker in (self._sqlite_writer, self._sqlite_reader):
            if worker is not None:
                await asyncio.to_thread(worker.close)
        self._sqlite_writer = self._sqlite_reader = None
        if self._group_engine is not None:
            await self._group_engine.dispose()
            self._group_engine = None
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


async def _in_autocommit(engine: AsyncEngine, work: Callable[[Connection, *Ts], T], *args: *Ts) -> T:
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        return await connection.run_sync(work, *args)


class StoreError(Exception):
    """A flow refused its input; the message is meant for the person who gave it."""


class NotFound(StoreError):
    pass


def is_conflict(error: BaseException) -> bool:
    """A serialization failure or deadlock: the transaction may simply run again."""
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    codes = {
        getattr(original, "sqlstate", None),
        getattr(original, "pgcode", None),
        getattr(getattr(original, "__cause__", None), "sqlstate", None),
    }
    return bool(codes & _CONFLICT_SQLSTATES)


Flow = TypeVar("Flow", bound=Callable[..., Awaitable[Any]])


def retry_conflicts(flow: Flow) -> Flow:
    """Run ``flow`` (one or more whole transactions) again when PostgreSQL aborted it for
    a serialization failure or a deadlock, a few times, after a short random pause."""

    @functools.wraps(flow)
    async def run(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, MAX_CONFLICT_ATTEMPTS + 1):
            try:
                return await flow(*args, **kwargs)
            except DBAPIError as error:
                if not is_conflict(error) or attempt == MAX_CONFLICT_ATTEMPTS:
                    raise
                log.info(
                    "%s met a %s; running it again (attempt %d)", flow.__name__, type(error.orig).__name__, attempt + 1
                )
                await asyncio.sleep(random.uniform(0.0, 0.005 * 2**attempt))
        raise AssertionError("unreachable")

    return run  # type: ignore[return-value]


_run_write_retried = retry_conflicts(Store._run_write_once)


def teammate_flow(flow: Flow) -> Flow:
    """A teammate's flow: conflicts retried, and any database error that still escapes
    becomes a ``StoreError`` that says so (the inbox shows ``StoreError`` to them)."""
    retried = retry_conflicts(flow)

    @functools.wraps(flow)
    async def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return await retried(*args, **kwargs)
        except (SQLAlchemyError, OSError) as error:
            log.warning("%s failed in the database: %s", flow.__name__, error)
            cause = error.orig if isinstance(error, DBAPIError) else error
            raise StoreError(
                f"the database could not save this ({type(cause).__name__}: "
                f"{str(cause).splitlines()[0] if str(cause) else 'no detail'}); try again"
            ) from error

    return run  # type: ignore[return-value]
