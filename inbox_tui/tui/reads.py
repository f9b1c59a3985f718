"""Store reads that run to their end, whatever happens to the worker that asked.

The list, the detail and the counts load in exclusive workers: a newer load cancels the
older one (the latest wins), and Textual cancels every unfinished worker of the group
again each time one more starts. A cancel that lands inside a query makes SQLAlchemy
drop the connection, and the next cancel lands in that clean-up: the pool's reset fails
with a ``CancelledError`` and the connection's graceful close is abandoned half-way
("Task was destroyed but it is pending!"). So a read runs in a task of its own that the
worker only waits for, shielded: a cancelled worker stops waiting at once, the read
finishes and gives its connection back, and its result is dropped. ``settle`` waits for
the reads still running before the store closes.
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


async def whole(work: Awaitable[T]) -> T:
    """``await work``, never cut off by a cancel of the caller (see the module doc)."""
    task = asyncio.ensure_future(work)
    _running.add(task)
    task.add_done_callback(_running.discard)
    return await asyncio.shield(task)


async def read(store: Store, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """``work(session)`` in one read transaction of ``store``, run to its end."""

    async def transaction() -> T:
        async with store.read() as session:
            return await work(session)

    return await whole(transaction())


async def settle() -> None:
    """Wait until the reads this event loop started have ended (before the store closes)."""
    loop = asyncio.get_running_loop()
    while running := [task for task in _running if task.get_loop() is loop]:
        await asyncio.wait(running)
