"""The event log: a client that follows it from the last id it saw misses nothing, even
while many writers commit at once (ids must become visible in increasing order)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event, text

from inbox_tui.core import conversations
from inbox_tui.core.store import Store
from tests.conftest import both_backends, postgres_only
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


@both_backends
async def test_the_event_feed_misses_nothing_while_writers_race(database_url: str) -> None:
    """The server's own follower (``EventFeed``, whose reads on PostgreSQL run without a
    transaction around them) hands every event on once, in id order."""
    from inbox_tui.channel.event_feed import EventFeed

    writers = [Store(database_url) for _ in range(WRITERS)]
    reader = Store(database_url)
    feed = EventFeed(reader, poll_interval=0.01)
    seen: list[int] = []
    try:
        chats = [await new_conversation(writers[0], f"c-{i}") for i in range(CONVERSATIONS)]
        await feed.start()
        start = feed.last_id
        feed.subscribe(lambda batch: seen.extend(event.id for event in batch))

        async def write(i: int) -> None:
            for n in range(MESSAGES_EACH):
                await conversations.record_customer_message(
                    writers[i % WRITERS], chats[i].conversation.id, f"message {n} in chat {i}"
                )

        await asyncio.gather(*(write(i) for i in range(CONVERSATIONS)))
        everything = [event.id for event in await events_after(reader, start)]
        assert len(everything) == CONVERSATIONS * MESSAGES_EACH
        async with asyncio.timeout(10):
            while len(seen) < len(everything):
                feed.wake()
                await asyncio.sleep(0.01)
        assert seen == everything  # nothing skipped, nothing twice, in order
    finally:
        await feed.stop()
        for store in (*writers, reader):
            await store.close()


TRANSACTION_WORDS = ("BEGIN", "BEGIN;", "ROLLBACK", "ROLLBACK;", "COMMIT", "COMMIT;")


@postgres_only
async def test_a_read_of_the_log_on_postgresql_is_one_statement_without_a_transaction(database_url: str) -> None:
    """Each read follows a commit: a BEGIN and a ROLLBACK around it would be two more
    round trips to the server for nothing (READ COMMITTED gives a statement its own
    snapshot either way)."""
    from inbox_tui.channel.event_feed import _events_after

    store = Store(database_url)
    sent: list[str] = []

    def log_queries(dbapi_connection: Any, _record: Any) -> None:
        driver = dbapi_connection.driver_connection
        driver.add_query_logger(lambda record: sent.append(record.query))

    event.listen(store._unpinged_engine().sync_engine, "connect", log_queries)
    try:
        chat = await new_conversation(store, "one")
        await conversations.record_customer_message(store, chat.conversation.id, "hello")
        sent.clear()
        rows = await store.run_read(_events_after, 0)
        assert [row.kind for row in rows][-1] == "message"
        # asyncpg logs its plain queries (BEGIN, COMMIT, ROLLBACK), not its prepared ones.
        assert not [query for query in sent if query.split()[0].upper() in TRANSACTION_WORDS], sent
        # The connection goes back to the pool ready for a write group's transaction (and
        # the logger does see one).
        async with store._unpinged_engine().begin() as connection:
            await connection.execute(text("SELECT 1"))
        assert [query.split()[0].upper() for query in sent] == ["BEGIN", "COMMIT;"], sent
    finally:
        await store.close()
