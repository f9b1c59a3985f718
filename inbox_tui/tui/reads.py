"""Store work that runs to its end, whatever happens to the worker that asked.

The list, the detail, the counts and the search load in exclusive workers: a newer load
cancels the older one (the latest wins), and Textual cancels every unfinished worker of
the group again each time one more starts; quitting cancels every worker. A cancel that
lands inside a query makes SQLAlchemy drop the connection, and the next cancel lands in
that clean-up: the pool's reset fails with a ``CancelledError`` and the connection's
graceful close is abandoned half-way, its task waiting forever on aiosqlite's stopped
thread ("Task was destroyed but it is pending!", or a hang when the loop closes). So a
read, a flow's write or the store's opening runs in a task of its own that the worker
only waits for, shielded: a cancelled worker stops waiting at once, the work finishes
and gives its connection back, and its result is dropped (a flow's write is kept: a
teammate's action is not cut off half-way by quitting). ``settle`` waits for the work
still running before the store closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core.store import Store

T = TypeVar("T")

#: Reads under way; kept here so that a read whose worker is gone is not collected.
_running: set[asyncio.Task[Any]] = set()


def start(work: Awaitable[T]) -> asyncio.Future[T]:
    """``work`` in a task of its own, kept (and waited for by ``settle``) until it ends."""
    task = asyncio.ensure_future(work)
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


async def whole(work: Awaitable[T]) -> T:
    """``await work``, never cut off by a cancel of the caller (see the module doc)."""
    return await asyncio.shield(start(work))


async def read(store: Store, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """``work(session)`` in one read transaction of ``store``, run to its end."""

    async def transaction() -> T:
        async with store.read() as session:
            return await work(session)

    return await whole(transaction())


async def settle() -> None:
    """Wait until the work this event loop started here has ended (before the store closes)."""
    loop = asyncio.get_running_loop()
    while running := [task for task in _running if task.get_loop() is loop]:
        await asyncio.wait(running)
