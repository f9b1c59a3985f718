"""What ``inbox-tui serve`` makes sure of before it listens.

The database must be reachable (PostgreSQL that is not up yet, or whose database is not
created yet, is waited for with backoff, saying so each time), intact (``PRAGMA
quick_check`` on SQLite, before anything writes to it), at a schema this program knows
(migrated to it when behind), and writable. Anything else is refused with one clear
line instead of a server that listens and then fails every customer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from inbox_tui.core.database_url import parse_database_url, sqlite_file
from inbox_tui.core.migrate import current_revision, ensure_schema, head_revision, known_revisions
from inbox_tui.core.private_files import prepare_sqlite_file
from inbox_tui.core.store import Store, StoreError

FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 10.0

# asyncpg's exceptions for "not up yet" and "no such database yet" (by name: asyncpg is
# only imported when PostgreSQL is used).
_WAIT_FOR = {
    "CannotConnectNowError",
    "InvalidCatalogNameError",
    "ConnectionDoesNotExistError",
    "TooManyConnectionsError",
}


class StartRefused(StoreError):
    """The database cannot be served; the message says why in one line."""


def _first_line(error: BaseException) -> str:
    text_ = str(getattr(error, "orig", None) or error).strip().splitlines()
    return (text_[0] if text_ else "") or error.__class__.__name__


def _worth_waiting_for(error: BaseException) -> bool:
    """Unreachable or not created yet: it may come. Wrong password or role: it will not."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    chain: list[BaseException] = [error, cause]
    while cause.__cause__ is not None and len(chain) < 8:
        cause = cause.__cause__
        chain.append(cause)
    return any(type(item).__name__ in _WAIT_FOR or isinstance(item, (OSError, TimeoutError)) for item in chain)


async def wait_until_reachable(
    database_url: str,
    say: Callable[[str], None],
    *,
    first_delay: float = FIRST_RETRY_SECONDS,
    max_delay: float = MAX_RETRY_SECONDS,
    give_up_after: float | None = None,
) -> None:
    """Return once PostgreSQL answers; until then retry with backoff, one line each time.
    SQLite needs no waiting. ``give_up_after`` seconds bounds the wait (None or 0: until it comes)."""
    if sqlite_file(database_url) is not None:
        return
    shown = parse_database_url(database_url).render_as_string(hide_password=True)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after if give_up_after else None
    delay = first_delay
    while True:
        store = Store(database_url)
        try:
            async with store.read_engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            return
        except (TimeoutError, OSError, SQLAlchemyError) as error:
            if not _worth_waiting_for(error):
                raise StartRefused(f"cannot use the database {shown}: {_first_line(error)}") from None
            if deadline is not None and loop.time() + delay > deadline:
                raise StartRefused(f"the database {shown} is still not reachable: {_first_line(error)}") from None
            say(f"waiting for the database {shown}: {_first_line(error)}; trying again in {delay:.1f} s")
        finally:
            await store.close()
        await asyncio.sleep(delay)
        delay = min(max_delay, delay * 2)


async def _quick_check(store: Store) -> None:
    path = sqlite_file(store.url.render_as_string(hide_password=False))
    if path is None or not path.exists():
        return
    try:
        async with store.read_engine.connect() as connection:
            rows = (await connection.execute(text("PRAGMA quick_check"))).scalars().all()
    except SQLAlchemyError as error:
        raise StartRefused(f"the SQLite database {path} cannot be read: {_first_line(error)}") from None
    if [str(row) for row in rows] != ["ok"]:
        raise StartRefused(
            f"the SQLite database {path} is damaged (quick_check: {rows[0] if rows else 'no answer'}); "
            "restore it from a backup"
        )


async def _check_known_schema(store: Store) -> None:
    current = await current_revision(store)
    if current is not None and current not in known_revisions():
        raise StartRefused(
            f"the database schema ({current}) is newer than this program knows ({head_revision()}): "
            "it was upgraded by a newer inbox-tui; upgrade this one to match"
        )


async def _check_writable(store: Store) -> None:
    try:
        async with store.write_engine.begin() as connection:
            # A real write that changes nothing: a read-only file or a read-only role fails here.
            await connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
    except SQLAlchemyError as error:
        raise StartRefused(f"the database cannot be written to: {_first_line(error)}") from None


async def prepare_database_for_serving(
    database_url: str, say: Callable[[str], None], *, give_up_after: float | None = None
) -> None:
    """Everything the module doc says, in order; raises StartRefused with one clear line."""
    await wait_until_reachable(database_url, say, give_up_after=give_up_after)
    prepare_sqlite_file(database_url)
    store = Store(database_url)
    try:
        await _quick_check(store)
        await _check_known_schema(store)
        try:
            await ensure_schema(store)
        except SQLAlchemyError as error:
            raise StartRefused(f"cannot bring the database schema up to date: {_first_line(error)}") from None
        await _check_writable(store)
    finally:
        await store.close()
