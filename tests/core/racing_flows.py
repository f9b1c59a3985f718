"""A worker process for the lock-order race across processes (module level, so that
the ``spawn`` start method can import it): each round it runs its one flow on every
conversation at once, right after the other workers passed the same barrier."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from inbox_tui.core import conversations, tickets
from inbox_tui.core.store import Store, StoreError

ROLES = ("reply", "allow_ai", "customer", "note", "customer", "reply")
BARRIER_TIMEOUT = 60.0


async def _one(role: str, store: Store, conversation_id: int, ticket_id: int, agent_id: int, tag: str) -> None:
    if role == "reply":
        await tickets.send_agent_reply(store, ticket_id, agent_id, f"reply {tag}")
    elif role == "allow_ai":
        await tickets.allow_ai_replies(store, ticket_id, agent_id)
    elif role == "customer":
        await conversations.record_customer_message(store, conversation_id, f"hi {tag}")
    elif role == "note":
        await tickets.add_note(store, ticket_id, agent_id, f"note {tag}")
    else:
        raise AssertionError(role)


def race_in_process(database_url: str, worker: int, agent_id: int, tasks: Any, barrier: Any, results: Any) -> None:
    """Take rounds from ``tasks`` (a list of (conversation, ticket) pairs; None ends),
    race at the barrier, put a Counter of outcomes per round on ``results``."""
    role = ROLES[worker % len(ROLES)]

    async def run() -> None:
        store = Store(database_url)
        try:
            async with store.read():
                pass  # a warm pool: the race is between transactions, not connection set-ups
            round_number = 0
            while (pairs := tasks.get(timeout=120)) is not None:
                outcomes: Counter[str] = Counter()

                async def flow(conversation_id: int, ticket_id: int) -> None:
                    try:
                        await _one(role, store, conversation_id, ticket_id, agent_id, f"{worker}-{round_number}")
                        outcomes[f"{role} ok"] += 1
                    except StoreError as error:
                        # A closed ticket refuses a late reply or note: the flow's own answer.
                        key = "refused (closed)" if "is closed" in str(error) else f"FAILED: {error}"
                        outcomes[f"{role} {key}"] += 1
                    except Exception as error:  # noqa: BLE001 - counted; the test asserts there are none
                        outcomes[f"{role} FAILED: {type(error).__name__}: {error}"] += 1

                barrier.wait(BARRIER_TIMEOUT)
                await asyncio.gather(*(flow(c, t) for c, t in pairs))
                results.put(outcomes)
                round_number += 1
        finally:
            await store.close()

    asyncio.run(run())
