"""The customer socket's outbox: FIFO, one waiting reader woken, nothing held when idle."""

from __future__ import annotations

import asyncio

from inbox_tui.channel.outbox import Outbox


async def test_items_come_out_in_order_to_a_reader_that_waited() -> None:
    outbox: Outbox[int] = Outbox()
    got: list[int] = []

    async def reader() -> None:
        for _ in range(5):
            got.append(await outbox.get())

    task = asyncio.create_task(reader())
    await asyncio.sleep(0)  # the reader waits on an empty outbox
    outbox.put_nowait(0)
    for n in range(1, 5):
        outbox.put_nowait(n)
        await asyncio.sleep(0)
    await task
    assert got == [0, 1, 2, 3, 4]
    assert outbox.qsize() == 0


async def test_an_idle_outbox_holds_no_buffer_and_a_cancelled_reader_leaves_it_usable() -> None:
    outbox: Outbox[str] = Outbox()
    outbox.put_nowait("a")
    assert outbox.qsize() == 1
    assert await outbox.get() == "a"
    assert outbox._items is None  # an idle socket keeps no deque
    waiting = asyncio.create_task(outbox.get())
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    outbox.put_nowait("b")
    assert await asyncio.wait_for(outbox.get(), 5) == "b"
