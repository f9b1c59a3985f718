"""The event feed publishes what its own node's SQLite write groups appended without
reading it back from the log, exactly as the log holds it; with other writers racing
(whose commits it learns of only from the log) it still hands every event on once, in
id order."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from inbox_tui.channel import event_feed
from inbox_tui.channel.event_feed import EventFeed, LoggedEvent
from inbox_tui.core import conversations
from inbox_tui.core.store import Store
from tests.core.helpers import events_after, new_conversation

CONVERSATIONS = 12
MESSAGES_EACH = 10
OTHER_WRITERS = 3


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    reads: list[int] = []
    read = event_feed._events_after

    def counted(connection: Any, after_id: int) -> list[Any]:
        reads.append(after_id)
        return read(connection, after_id)

    monkeypatch.setattr(event_feed, "_events_after", counted)
    return reads


@contextlib.asynccontextmanager
async def _following(
    store: Store, poll_interval: float, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[int, list[LoggedEvent], list[int]]]:
    """A started feed on ``store`` as the server wires it: the id it starts after, what it
    publishes, and each read of the log it makes from now on."""
    feed = EventFeed(store, poll_interval=poll_interval)
    seen: list[LoggedEvent] = []
    await feed.start()
    feed.subscribe(seen.extend)
    store.add_commit_listener(feed.committed)
    try:
        yield feed.last_id, seen, _counting_reads(monkeypatch)
    finally:
        await feed.stop()


async def _wait_for(seen: list[LoggedEvent], count: int) -> None:
    async with asyncio.timeout(10):
        while len(seen) < count:
            await asyncio.sleep(0.01)


async def test_own_events_are_published_as_the_log_holds_them_without_reading_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(database_url)
    try:
        chats = [await new_conversation(store, f"c-{i}") for i in range(CONVERSATIONS)]
        # No poll during the test: only the store's commits wake the feed.
        async with _following(store, 60, monkeypatch) as (start, seen, reads):

            async def write(i: int) -> None:
                for n in range(MESSAGES_EACH):
                    text = f"message {n} in chat {i} — “quoted” 🌍 <b>[bold]not markup[/]</b>"
                    await conversations.record_customer_message(
                        store, chats[i].conversation.id, text, client_id=f"m-{i}-{n}"
                    )

            await asyncio.gather(*(write(i) for i in range(CONVERSATIONS)))  # concurrent: write groups
            logged = [LoggedEvent(row) for row in await events_after(store, start)]
            assert len(logged) == CONVERSATIONS * MESSAGES_EACH
            await _wait_for(seen, len(logged))
            assert reads == [], "the feed read back events its own write groups had handed it"
            assert [e.event for e in seen] == [e.event for e in logged]  # ids, kinds, payloads, times
    finally:
        await store.close()


async def test_other_writers_between_own_groups_are_read_from_the_log_once_in_order(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(database_url)
    others = [Store(database_url) for _ in range(OTHER_WRITERS)]  # their commits do not call our listeners
    try:
        chats = [await new_conversation(store, f"c-{i}") for i in range(CONVERSATIONS)]
        async with _following(store, 0.02, monkeypatch) as (start, seen, reads):

            async def write(i: int) -> None:
                writer = store if i % 2 else others[i % OTHER_WRITERS]
                for n in range(MESSAGES_EACH):
                    await conversations.record_customer_message(writer, chats[i].conversation.id, f"{n} in {i}")

            await asyncio.gather(*(write(i) for i in range(CONVERSATIONS)))
            logged = [LoggedEvent(row) for row in await events_after(store, start)]
            assert len(logged) == CONVERSATIONS * MESSAGES_EACH
            await _wait_for(seen, len(logged))  # other writers' events: by the feed's poll
            assert [e.id for e in seen] == [e.id for e in logged]  # nothing skipped, nothing twice, in order
            assert [e.event for e in seen] == [e.event for e in logged]
            assert reads, "other processes' commits were never read from the log"
    finally:
        for writer in (store, *others):
            await writer.close()
