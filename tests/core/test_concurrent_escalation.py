"""Exactly one ticket under real concurrency: OS processes racing ``escalate``.

Eight worker processes (spawned, so nothing is shared but the database) are started once;
each round they meet at a barrier and all call ``escalate`` on the same conversation —
takeovers by different teammates mixed with bot escalations. Every round must yield one
ticket with one assignee, and every loser must be told which ticket and who holds it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from inbox_tui.core.models import Ticket, TicketSource
from inbox_tui.core.store import Store
from tests.conftest import both_backends
from tests.core.helpers import add_teammate, new_conversation
from tests.support.process_race import racing_processes

WORKERS = 8
ROUNDS = 50
BARRIER_TIMEOUT = 60.0


@dataclass(frozen=True)
class Outcome:
    round: int
    worker: int
    ticket_id: int
    created: bool
    assignee_id: int | None
    error: str | None = None


def _worker(
    database_url: str,
    worker: int,
    actor_id: int | None,
    conversation_ids: list[int],
    barrier: Any,
    results: Any,
) -> None:
    """One racer: its own process, its own Store and connection pool."""
    from inbox_tui.core.escalation import escalate

    async def run() -> None:
        store = Store(database_url)
        try:
            # Warm the pool so the race is between transactions, not connection set-ups.
            async with store.read() as session:
                await session.get(Ticket, 0)
            for round_number, conversation_id in enumerate(conversation_ids):
                barrier.wait(BARRIER_TIMEOUT)
                try:
                    if actor_id is None:
                        result = await escalate(
                            store, conversation_id, source=TicketSource.ESCALATION, reason=f"bot in worker {worker}"
                        )
                    else:
                        result = await escalate(store, conversation_id, source=TicketSource.TAKEOVER, actor_id=actor_id)
                    results.put(
                        Outcome(
                            round_number,
                            worker,
                            result.ticket_id,
                            result.created,
                            result.assignee.id if result.assignee else None,
                        )
                    )
                except Exception as error:  # noqa: BLE001 - reported to the test, which fails
                    results.put(Outcome(round_number, worker, -1, False, None, repr(error)))
        finally:
            await store.close()

    asyncio.run(run())


@pytest.mark.slow
@both_backends
async def test_racing_processes_open_exactly_one_ticket(database_url: str) -> None:
    store = Store(database_url)
    try:
        # Six teammates take over; two workers play the bot, which routes to an online teammate.
        teammates = [await add_teammate(store, f"agent{i}", capacity=1000) for i in range(WORKERS - 2)]
        actors: list[int | None] = [t.id for t in teammates] + [None, None]
        conversation_ids = [
            (await new_conversation(store, f"racer-{r}", first_message="I need help")).conversation.id
            for r in range(ROUNDS)
        ]
    finally:
        await store.close()

    arguments = [(database_url, w, actors[w], conversation_ids) for w in range(WORKERS)]
    async with racing_processes(_worker, arguments) as race:
        outcomes: list[Outcome] = await race.results(WORKERS * ROUNDS)

    errors = [o for o in outcomes if o.error]
    assert not errors, errors[:3]
    store = Store(database_url)
    try:
        async with store.read() as session:
            stored = list(await session.scalars(select(Ticket)))
    finally:
        await store.close()
    by_conversation = {t.conversation_id: t for t in stored}
    assert len(stored) == ROUNDS and len(by_conversation) == ROUNDS  # one ticket per conversation

    takeovers_won = bot_won = 0
    for round_number, conversation_id in enumerate(conversation_ids):
        ticket = by_conversation[conversation_id]
        this_round = [o for o in outcomes if o.round == round_number]
        assert len(this_round) == WORKERS
        winners = [o for o in this_round if o.created]
        assert len(winners) == 1, f"round {round_number}: {this_round}"
        winner = winners[0]
        # Everyone, winner and losers, is told the same ticket and the same holder.
        assert {o.ticket_id for o in this_round} == {ticket.id}
        assert {o.assignee_id for o in this_round} == {ticket.assignee_id}
        if actors[winner.worker] is None:
            bot_won += 1
            assert ticket.source == TicketSource.ESCALATION
            assert ticket.assignee_id in {t.id for t in teammates}
        else:
            takeovers_won += 1
            assert ticket.source == TicketSource.TAKEOVER
            assert ticket.assignee_id == actors[winner.worker]
    assert takeovers_won + bot_won == ROUNDS
