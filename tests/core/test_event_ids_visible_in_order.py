"""Event ids become visible in increasing order on PostgreSQL, shown with the one
interleaving that breaks it, forced step by step rather than hoped for:

1. writer A appends an event (id N) and keeps its transaction open;
2. writer B (a customer's message, the real flow) appends id N+1 and tries to commit;
3. a follower reads the log;
4. A commits; the follower reads on from the last id it saw.

With the order lock (``events._TAKE_ORDER_LOCK``) B waits for A in step 2, the follower
sees nothing in step 3 and both events in step 4. Without it B commits N+1 first, the
follower moves past it in step 3 and never sees N: this test fails every run.
(SQLite serializes writers by itself; there is no interleaving to force.)"""

from __future__ import annotations

import asyncio

import pytest

from inbox_tui.core import conversations, events
from inbox_tui.core.events import EventKind, PendingEvent
from inbox_tui.core.store import Store
from tests.conftest import BACKENDS
from tests.core.helpers import done_or_parked_on_a_lock, events_after, last_event_id, new_conversation


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", [p for p in BACKENDS if p.id == "postgresql"], indirect=True)
async def test_a_follower_never_skips_an_event_committed_after_a_later_id(database_url: str) -> None:
    writer_a, writer_b, reader = Store(database_url), Store(database_url), Store(database_url)
    try:
        quiet = (await new_conversation(writer_a, "a")).conversation.id
        chatty = (await new_conversation(writer_a, "b")).conversation.id
        start = await last_event_id(reader)
        a_appended, a_may_commit = asyncio.Event(), asyncio.Event()

        async def slow_transaction() -> None:
            async with writer_a.write() as session:
                await events.append(session, writer_a.now(), PendingEvent(EventKind.NOTE, quiet, payload={"n": 1}))
                a_appended.set()
                await a_may_commit.wait()

        a = asyncio.create_task(slow_transaction())
        await a_appended.wait()  # step 1
        b = asyncio.create_task(conversations.record_customer_message(writer_b, chatty, "hello"))  # step 2
        await done_or_parked_on_a_lock(reader, b, wait_event="advisory")
        seen = [event.id for event in await events_after(reader, start)]  # step 3
        last = seen[-1] if seen else start
        a_may_commit.set()  # step 4
        await asyncio.gather(a, b)
        seen += [event.id for event in await events_after(reader, last)]
        everything = [event.id for event in await events_after(reader, start)]
    finally:
        for store in (writer_a, writer_b, reader):
            await store.close()
    assert len(everything) == 2
    assert seen == everything  # nothing skipped, nothing twice, in order
