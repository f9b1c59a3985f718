"""Claiming an unassigned ticket: one winner under real concurrency, the loser told who."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from inbox_tui.core.claiming import claim_ticket
from inbox_tui.core.customer_status import status_text
from inbox_tui.core.escalation import escalate
from inbox_tui.core.models import Ticket, TicketSource
from inbox_tui.core.status_lines import StatusKind
from inbox_tui.core.store import Store, StoreError
from inbox_tui.core.tickets import allow_ai_replies
from tests.attention.test_customer_truth import system_lines
from tests.conftest import both_backends
from tests.core.helpers import add_teammate, new_conversation, timeline_codes
from tests.support.process_race import racing_processes

ROUNDS = 12
BARRIER_TIMEOUT = 60.0


async def unassigned_ticket(store: Store, customer: str = "c1") -> tuple[int, int]:
    started = await new_conversation(store, customer, first_message="hello?")
    result = await escalate(store, started.conversation.id, source=TicketSource.ESCALATION, reason="asked")
    assert result.assignee is None
    return result.ticket_id, started.conversation.id


@both_backends
async def test_claiming_assigns_to_me_writes_the_timeline_and_tells_the_customer(store: Store) -> None:
    ana = await add_teammate(store, "ana", online=False, capacity=0)
    ticket_id, conversation_id = await unassigned_ticket(store)
    result = await claim_ticket(store, ticket_id, ana.id)
    assert result.won and result.holder == ana
    async with store.read() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.assignee_id == ana.id
    assert "claimed" in await timeline_codes(store, ticket_id)
    # Ana is at the keyboard claiming it: the customer hears she joined, once.
    lines = await system_lines(store, conversation_id)
    assert lines.count(status_text(StatusKind.JOINED, None, name="Ana")) == 1


@both_backends
async def test_a_claim_on_a_held_ticket_says_who_holds_it_and_changes_nothing(store: Store) -> None:
    ana = await add_teammate(store, "ana", capacity=0)
    ben = await add_teammate(store, "ben", capacity=0)
    ticket_id, _ = await unassigned_ticket(store)
    assert (await claim_ticket(store, ticket_id, ben.id)).won
    lost = await claim_ticket(store, ticket_id, ana.id)
    assert not lost.won and lost.holder == ben
    assert "Ben (@ben)" in lost.text
    again = await claim_ticket(store, ticket_id, ben.id)  # claiming my own ticket again is a no-op win
    assert again.won and again.holder == ben


@both_backends
async def test_a_closed_ticket_cannot_be_claimed(store: Store) -> None:
    ana = await add_teammate(store, "ana", capacity=0)
    ticket_id, _ = await unassigned_ticket(store)
    await allow_ai_replies(store, ticket_id, None)
    with pytest.raises(StoreError):
        await claim_ticket(store, ticket_id, ana.id)


@dataclass(frozen=True)
class ClaimOutcome:
    round: int
    agent_id: int
    won: bool
    holder_id: int | None
    error: str | None = None


def _claimer(database_url: str, agent_id: int, ticket_ids: list[int], barrier: Any, results: Any) -> None:
    """One teammate's inbox: its own process, Store and connection pool."""

    async def run() -> None:
        store = Store(database_url)
        try:
            async with store.read() as session:
                await session.get(Ticket, 0)  # warm the pool: the race is between transactions
            for round_number, ticket_id in enumerate(ticket_ids):
                barrier.wait(BARRIER_TIMEOUT)
                try:
                    result = await claim_ticket(store, ticket_id, agent_id)
                    holder = result.holder.id if result.holder else None
                    results.put(ClaimOutcome(round_number, agent_id, result.won, holder))
                except Exception as error:  # noqa: BLE001 - reported to the test, which fails
                    results.put(ClaimOutcome(round_number, agent_id, False, None, repr(error)))
        finally:
            await store.close()

    asyncio.run(run())


@pytest.mark.slow
@both_backends
async def test_two_processes_claiming_at_once_one_wins_the_other_is_told_who(database_url: str) -> None:
    store = Store(database_url)
    try:
        ana = await add_teammate(store, "ana", capacity=0)
        ben = await add_teammate(store, "ben", capacity=0)
        ticket_ids = [(await unassigned_ticket(store, f"racer-{r}"))[0] for r in range(ROUNDS)]
    finally:
        await store.close()

    arguments = [(database_url, agent.id, ticket_ids) for agent in (ana, ben)]
    async with racing_processes(_claimer, arguments) as race:
        outcomes: list[ClaimOutcome] = await race.results(2 * ROUNDS)

    assert not [o for o in outcomes if o.error], [o for o in outcomes if o.error][:3]
    store = Store(database_url)
    try:
        async with store.read() as session:
            for round_number, ticket_id in enumerate(ticket_ids):
                ticket = await session.get(Ticket, ticket_id)
                assert ticket is not None
                this_round = [o for o in outcomes if o.round == round_number]
                winners = [o for o in this_round if o.won]
                assert len(winners) == 1, this_round
                assert ticket.assignee_id == winners[0].agent_id
                # The loser is told who has it: the winner.
                assert {o.holder_id for o in this_round} == {winners[0].agent_id}
            codes = [await timeline_codes(store, t) for t in ticket_ids]
    finally:
        await store.close()
    assert all(c.count("claimed") == 1 for c in codes)
