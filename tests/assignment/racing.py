"""Code run in separate processes by the concurrency tests (module level, so that the
``spawn`` start method can import it)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from inbox_tui.core import conversations, escalation
from inbox_tui.core.backlog import hand_out_waiting
from inbox_tui.core.escalation import EscalationSettings
from inbox_tui.core.store import Store
from inbox_tui.settings import AssignmentSettings
from tests.conftest import FixedClock

SETTINGS = AssignmentSettings(next_shift_fallback=False)


def hand_out_in_process(url: str, now: str, barrier: Any, results: Any) -> None:
    async def run() -> list[int]:
        store = Store(url, clock=FixedClock(datetime.fromisoformat(now)))
        try:
            barrier.wait(30)
            assigned: list[int] = []
            for _ in range(3):  # several rounds, as triggers would fire repeatedly
                assigned += await hand_out_waiting(store, SETTINGS)
            return assigned
        finally:
            await store.close()

    results.put(asyncio.run(run()))


def escalate_in_process(url: str, now: str, conversation_ids: list[int], barrier: Any, results: Any) -> None:
    async def run() -> list[tuple[int, int | None]]:
        store = Store(url, clock=FixedClock(datetime.fromisoformat(now)))
        try:
            barrier.wait(30)
            outcomes = []
            for conversation_id in conversation_ids:
                result = await escalation.escalate(
                    store,
                    conversation_id,
                    source="escalation",
                    reason="race",
                    settings=EscalationSettings(assignment=SETTINGS),
                )
                outcomes.append((result.ticket_id, result.assignee.id if result.assignee else None))
            return outcomes
        finally:
            await store.close()

    results.put(asyncio.run(run()))


async def start_conversations(store: Store, n: int, prefix: str) -> list[int]:
    ids = []
    for index in range(n):
        started = await conversations.start_conversation(
            store, channel="web", customer_id=f"{prefix}-{index}", name="Customer"
        )
        ids.append(started.conversation.id)
    return ids
