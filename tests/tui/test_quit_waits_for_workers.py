"""Quitting waits for every cancelled worker to unwind before the store closes.

A worker that holds a database connection when it is cancelled gives it back only once
it has unwound. If quitting went on after the first worker ended (Textual's
``wait_for_complete`` does: its gather raises at the first ``WorkerCancelled``), the
store's engines were disposed with that connection still out, and the connection was
later finalized by the garbage collector on a loop that had gone (seen in CI as a task
stuck in aiosqlite's close, and "database is locked" raised into a closed loop)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from tests.tui.conftest import Inbox
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
