"""Store work is never cut off by a cancelled worker, and quitting waits for it.

A cancel that lands inside a query makes SQLAlchemy drop (invalidate) the connection,
and its graceful close can be left waiting forever on aiosqlite's stopped thread: seen in
CI as a task stuck in that close, and "database is locked" raised into a closed loop.
So quitting waits for every cancelled worker (Textual's ``wait_for_complete`` returns at
the first ``WorkerCancelled``), and reads, flows and the store's opening run in tasks of
their own (``inbox_tui.tui.reads``) that a cancel of the worker does not reach."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.tui.conftest import Inbox, wait_until
from tests.tui.test_app_keys import running

UNWIND_SECONDS = 0.5


async def test_quitting_waits_for_a_worker_slow_to_unwind_and_its_connection_comes_back(inbox: Inbox) -> None:
    app = inbox.app()
    events: list[str] = []
    holding = asyncio.Event()

    async def quick() -> None:
        await asyncio.Event().wait()  # ends at once when cancelled

    async def slow_with_a_connection() -> None:
        assert app.runtime is not None
        async with app.runtime.store.read() as session:
            await session.execute(text("select 1"))
            holding.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                # Unwinding takes a while (a query's end, a rollback), the connection still out.
                await asyncio.shield(asyncio.sleep(UNWIND_SECONDS))
                events.append("worker unwound")
                raise

    async with running(app) as pilot:
        app.run_worker(quick(), name="quick", group="test")
        app.run_worker(slow_with_a_connection(), name="slow", group="test")
        await asyncio.wait_for(holding.wait(), 10)
        await pilot.pause()
        assert app.runtime is not None
        pool = app.runtime.store.read_engine.pool
        store_close = app.runtime.close

        async def close_after_noting() -> None:
            events.append("store closing")
            await store_close()

        app.runtime.close = close_after_noting  # type: ignore[method-assign]
    assert events == ["worker unwound", "store closing"], events
    assert pool.checkedout() == 0, "a connection was never given back to the pool"  # type: ignore[attr-defined]


#: A read that keeps SQLite busy for a while (a few tenths of a second here).
SLOW_READ = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000) SELECT count(*) FROM n"


async def test_quitting_during_a_read_lets_it_end_and_no_connection_is_dropped(
    inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quit while the startup's second read (counts, unread, team) is inside a query: the
    read ends and gives its connection back. Cut off by the cancel instead, SQLAlchemy
    invalidates the connection and its graceful close can be left waiting forever on
    aiosqlite's stopped thread (a hang when the loop closes, seen in CI)."""
    from inbox_tui.core import attention

    invalidated: list[object] = []
    in_query = asyncio.Event()
    original = attention.unread_view_counts

    async def slow_unread_view_counts(session: AsyncSession, agent_id: int | None) -> object:
        engine = session.get_bind()
        event.listen(engine, "invalidate", lambda *args: invalidated.append(args))
        pools.append(engine.pool)  # type: ignore[union-attr]
        in_query.set()
        await session.execute(text(SLOW_READ))
        return await original(session, agent_id)

    pools: list[object] = []
    monkeypatch.setattr(attention, "unread_view_counts", slow_unread_view_counts)
    app = inbox.app()
    async with app.run_test(size=(120, 40)):
        await asyncio.wait_for(in_query.wait(), 15)
        await asyncio.sleep(0.05)  # inside the query now; quitting cancels the worker
    assert invalidated == [], "a connection was dropped by the cancel instead of given back"
    assert [pool.checkedout() for pool in pools] == [0]  # type: ignore[attr-defined]


async def test_a_newer_keystroke_cancels_a_search_inside_its_query_and_no_connection_is_dropped(
    inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The search runs in an exclusive worker: a newer keystroke cancels the older search,
    here while it is inside a query. The older read still ends cleanly; the newer one's hits
    are shown."""
    from inbox_tui.core import search as core_search
    from inbox_tui.tui.screens.search import SearchScreen

    invalidated: list[object] = []
    in_query = asyncio.Event()
    original = core_search.search
    slow_once = [True]

    async def search(session: AsyncSession, query: str, filters: object) -> object:
        if slow_once.pop() if slow_once else False:
            event.listen(session.get_bind(), "invalidate", lambda *args: invalidated.append(args))
            in_query.set()
            await session.execute(text(SLOW_READ))
        return await original(session, query, filters)  # type: ignore[arg-type]

    monkeypatch.setattr(core_search, "search", search)
    app = inbox.app()
    async with running(app) as pilot:
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SearchScreen), what="the search screen")
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        await pilot.press(*"bounce")
        await asyncio.wait_for(in_query.wait(), 15)
        await pilot.press("s")  # "bounces": the older search is cancelled inside its query
        await wait_until(pilot, lambda: bool(screen.hits), what="the newer search's hits")
        await asyncio.sleep(1.0)  # the older read's own end (the slow query) is well past
        assert invalidated == [], "the cancelled search dropped its connection instead of giving it back"


#: Where the TUI may open a store session itself: ``reads`` (which runs it whole) and the
#: live batch's load, which the worker runs through ``reads.whole``.
OWN_SESSIONS_ALLOWED = {("reads.py", "read"), ("reads.py", "transaction"), ("inbox.py", "_load_batch")}


def test_the_tui_reads_and_writes_the_store_only_through_reads() -> None:
    """A guard for the next worker: a ``store.read()`` or ``store.write()`` written straight
    in a TUI module is cut off by the worker's cancel (above). Go through ``reads``."""
    import ast
    from pathlib import Path

    import inbox_tui.tui

    found: list[tuple[str, str]] = []
    for path in sorted(Path(inbox_tui.tui.__file__).parent.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                call = node.func if isinstance(node, ast.Call) else None
                if (
                    isinstance(call, ast.Attribute)
                    and call.attr in ("read", "write")
                    and (
                        (isinstance(call.value, ast.Attribute) and call.value.attr == "store")
                        or (isinstance(call.value, ast.Name) and call.value.id == "store")
                    )
                ):
                    found.append((path.name, function.name))
    assert found, "the scan found nothing at all: it no longer sees the calls it guards"
    assert set(found) <= OWN_SESSIONS_ALLOWED, sorted(set(found) - OWN_SESSIONS_ALLOWED)
