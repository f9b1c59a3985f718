"""SQLite's writer thread runs write groups back to back from the queue (the store's
``_SqliteWorker._drain``). It must not keep the write lock from an ORM write session
that asks for it while writes keep coming, and a store closed while writes are under
way must answer every caller and stop its thread."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from inbox_tui.core import conversations
from inbox_tui.core.store import Store

#: Writes chained one behind the other (bounded: the test ends however the store behaves).
CHAIN = 120
#: How long one write waits, in the writer thread, for the next one to be queued.
QUEUED_WITHIN_SECONDS = 5.0


async def test_a_write_session_waiting_for_the_lock_goes_before_the_next_write_group(store: Store) -> None:
    """Each write, as it runs, waits until the next one is queued: when a group commits,
    there is always another write waiting, so the writer thread never runs out of work.
    A session that asks for the write lock meanwhile is let in after the group under way,
    not after the whole chain."""
    started = await conversations.start_conversation(store, channel="web", customer_id="c-1", name="Ada")
    conversation_id = started.conversation.id
    queued = [threading.Event() for _ in range(CHAIN + 1)]
    ran: list[int] = []

    def write(connection: Connection, index: int) -> None:
        ran.append(index)
        connection.execute(
            text("UPDATE conversations SET last_activity_at = last_activity_at WHERE id = :id"),
            {"id": conversation_id},
        )
        # The next write is in the queue before this group ends (or the chain is over).
        queued[index + 1].wait(QUEUED_WITHIN_SECONDS)

    async def chain() -> None:
        writes = []
        for index in range(CHAIN):
            writes.append(asyncio.ensure_future(store.run_write(write, index)))
            await asyncio.sleep(0)  # run_write has queued it
            queued[index].set()
            while len(ran) <= index and not writes[-1].done():  # it runs before the next is queued
                await asyncio.sleep(0.001)
        queued[CHAIN].set()
        await asyncio.gather(*writes)

    chained = asyncio.ensure_future(chain())
    while len(ran) < 10:
        await asyncio.sleep(0.001)
    async with asyncio.timeout(30), store.write() as session:
        await session.execute(text("SELECT 1"))
        ran_before_the_session = len(ran)
    async with asyncio.timeout(60):
        await chained

    assert ran == list(range(CHAIN))
    assert ran_before_the_session < CHAIN // 2, (
        f"the session waited for {ran_before_the_session} of {CHAIN} chained writes: "
        "the writer thread kept the lock while it had work"
    )


async def test_closing_the_store_with_writes_under_way_answers_every_caller(store: Store) -> None:
    started = await conversations.start_conversation(store, channel="web", customer_id="c-2", name="Bo")
    conversation_id = started.conversation.id
    writes = [
        asyncio.ensure_future(
            conversations.record_customer_message(store, conversation_id, f"message {n}", client_id=f"m-{n}")
        )
        for n in range(200)
    ]
    await asyncio.sleep(0)  # all queued; the writer thread has started on them
    async with asyncio.timeout(30):
        await store.close()
        outcomes = await asyncio.gather(*writes, return_exceptions=True)
    failed = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert failed == [], failed[:3]
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("sqlite-writer")]

    # The store opens its writer again on the next write, and every message is there.
    await conversations.record_customer_message(store, conversation_id, "after the close", client_id="m-last")
    async with store.read() as session:
        stored = (
            await session.execute(
                text("SELECT count(*) FROM messages WHERE conversation_id = :id"), {"id": conversation_id}
            )
        ).scalar_one()
    assert stored == 201


async def test_a_write_that_meets_a_closed_writer_fails_instead_of_waiting(store: Store) -> None:
    """A write queued as the store closes its writer (``Store.close`` stops the writer's
    thread before it lets go of it) is told so: it never waits for a writer that is gone."""
    started = await conversations.start_conversation(store, channel="web", customer_id="c-3", name="Cy")
    conversation_id = started.conversation.id
    await conversations.record_customer_message(store, conversation_id, "first", client_id="m-1")
    writer = store._sqlite_writer
    assert writer is not None
    writer.executor.shutdown(wait=True)  # what Store.close does first
    with pytest.raises(RuntimeError):
        async with asyncio.timeout(10):
            await conversations.record_customer_message(store, conversation_id, "second", client_id="m-2")
