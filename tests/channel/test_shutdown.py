"""Stopping always ends: a cancel that lands in the same loop turn as the wake-up a
task was waiting for must still end the task (Python 3.11's ``asyncio.wait_for``
returns the result and drops such a cancel; a polling loop built on it then outlives
``stop()`` and ``inbox-tui serve`` never exits)."""

from __future__ import annotations

import asyncio

from inbox_tui.channel.event_feed import EventFeed
from inbox_tui.core.store import Store

CYCLES = 20


async def test_the_event_feed_stops_when_the_cancel_lands_with_a_wake(store: Store) -> None:
    for cycle in range(CYCLES):
        feed = EventFeed(store, poll_interval=30.0)  # only a wake ends the wait
        await feed.start()
        await asyncio.sleep(0.01)  # the follower now waits for a wake
        feed.wake()
        stopping = asyncio.create_task(feed.stop())  # cancels in this same turn
        done, _ = await asyncio.wait({stopping}, timeout=5)
        assert stopping in done, f"cycle {cycle}: the event feed ignored its cancel and never stopped"
        await stopping
