"""The event log: a client that follows it from the last id it saw misses nothing, even
while many writers commit at once (ids must become visible in increasing order)."""

from __future__ import annotations

import asyncio

from inbox_tui.core import conversations
from inbox_tui.core.store import Store
from tests.conftest import both_backends
from tests.core.helpers import events_after, last_event_id, new_conversation

WRITERS = 8
CONVERSATIONS = 16
MESSAGES_EACH = 12


@both_backends
async def test_a_follower_misses_nothing_while_writers_race(database_url: str) -> None:
    writers = [Store(database_url) for _ in range(WRITERS)]
    reader = Store(database_url)
    try:
        chats = [await new_conversation(writers[0], f"c-{i}") for i in range(CONVERSATIONS)]
        start = last = await last_event_id(reader)
        seen: list[int] = []
        writing = True

        async def follow() -> None:
            nonlocal last
            while True:
                still_writing = writing
                batch = await events_after(reader, last)
                seen.extend(event.id for event in batch)
                if batch:
                    last = batch[-1].id
                elif not still_writing:
                    return  # every writer had committed before this empty read
                await asyncio.sleep(0)

        async def write(i: int) -> None:
            for n in range(MESSAGES_EACH):
                await conversations.record_customer_message(
                    writers[i % WRITERS], chats[i].conversation.id, f"message {n} in chat {i}"
                )

        follower = asyncio.create_task(follow())
        await asyncio.gather(*(write(i) for i in range(CONVERSATIONS)))
        writing = False
        await follower

        everything = [event.id for event in await events_after(reader, start)]
        assert len(everything) == CONVERSATIONS * MESSAGES_EACH
        assert seen == everything  # nothing skipped, nothing twice, in order
    finally:
        for store in (*writers, reader):
            await store.close()
