"""The ticket lifecycle on SQLite and PostgreSQL: pending, snoozed (and its wake-ups),
closed with the AI kept paused, and reopen."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from inbox_tui.core import conversations, escalation, events, lifecycle, tickets
from inbox_tui.core.events import EventKind
from inbox_tui.core.models import Conversation, ConversationStatus, Ticket, TicketStatus
from inbox_tui.core.store import Store, StoreError
from tests.conftest import FixedClock, both_backends
from tests.core.helpers import add_teammate, events_after, last_event_id, new_conversation, timeline_codes


async def _ticket(store: Store, ticket_id: int) -> Ticket:
    async with store.read() as session:
        found = await session.get(Ticket, ticket_id)
        assert found is not None
        return found


async def _conversation(store: Store, conversation_id: int) -> Conversation:
    async with store.read() as session:
        found = await session.get(Conversation, conversation_id)
        assert found is not None
        return found


async def _taken(store: Store, handle: str = "alice") -> tuple[int, int, int]:
    alice = await add_teammate(store, handle)
    started = await new_conversation(store, "c-1", first_message="hello")
    claimed = await escalation.escalate(store, started.conversation.id, source="takeover", actor_id=alice.id)
    return alice.id, started.conversation.id, claimed.ticket_id


@both_backends
async def test_pending_then_the_customer_writes_back(store: Store) -> None:
    alice, conversation_id, ticket_id = await _taken(store)
    await lifecycle.set_pending(store, ticket_id, alice)
    assert (await _ticket(store, ticket_id)).status == TicketStatus.WAITING_ON_CUSTOMER
    before = await last_event_id(store)

    await conversations.record_customer_message(store, conversation_id, "here is the photo")

    assert (await _ticket(store, ticket_id)).status == TicketStatus.ON_YOU
    updated = [e for e in await events_after(store, before) if e.kind == EventKind.TICKET_UPDATED]
    assert [(e.ticket_id, e.agent_id, e.payload["status"]) for e in updated] == [(ticket_id, alice, "on_you")]
    assert "pending" in await timeline_codes(store, ticket_id)


@both_backends
async def test_snooze_until_the_customer_writes(store: Store) -> None:
    alice, conversation_id, ticket_id = await _taken(store)
    await lifecycle.snooze(store, ticket_id, alice, None)
    ticket = await _ticket(store, ticket_id)
    assert (ticket.status, ticket.snoozed_until) == (TicketStatus.SNOOZED, None)
    assert await lifecycle.wake_snoozed(store) == []  # no time: only the customer wakes it

    await conversations.record_customer_message(store, conversation_id, "any news?")

    ticket = await _ticket(store, ticket_id)
    assert (ticket.status, ticket.snoozed_until) == (TicketStatus.ON_YOU, None)
    assert (await timeline_codes(store, ticket_id))[-2:] == ["snoozed", "snooze_ended"]


@both_backends
async def test_a_snooze_ends_at_its_time(database_url: str) -> None:
    clock = FixedClock()
    store = Store(database_url, clock=clock)
    try:
        alice, _conversation_id, ticket_id = await _taken(store)
        await lifecycle.snooze(store, ticket_id, alice, clock.now + timedelta(hours=2))
        clock.advance(hours=1, minutes=59)
        assert await lifecycle.wake_snoozed(store) == []
        assert (await _ticket(store, ticket_id)).status == TicketStatus.SNOOZED
        before = await last_event_id(store)

        clock.advance(minutes=1)
        # Two nodes sweep at once: the ticket wakes once.
        first, second = await asyncio.gather(lifecycle.wake_snoozed(store), lifecycle.wake_snoozed(store))

        assert sorted(first + second) == [ticket_id]
        ticket = await _ticket(store, ticket_id)
        assert (ticket.status, ticket.snoozed_until) == (TicketStatus.ON_YOU, None)
        woke = [e for e in await events_after(store, before) if e.kind == EventKind.TICKET_UPDATED]
        assert [(e.agent_id, e.payload.get("woke")) for e in woke] == [(alice, True)]
        assert (await timeline_codes(store, ticket_id)).count("snooze_ended") == 1
        with pytest.raises(StoreError, match="future"):
            await lifecycle.snooze(store, ticket_id, alice, clock.now - timedelta(minutes=1))
    finally:
        await store.close()


@both_backends
async def test_close_keeping_the_ai_paused_then_the_customer_writes(store: Store) -> None:
    alice, conversation_id, ticket_id = await _taken(store)
    await lifecycle.close_keeping_ai_paused(store, ticket_id, alice)
    ticket, conversation = await _ticket(store, ticket_id), await _conversation(store, conversation_id)
    assert ticket.status == TicketStatus.CLOSED
    assert (conversation.status, conversation.ai_enabled) == (ConversationStatus.ESCALATED, False)

    stored = await conversations.record_customer_message(store, conversation_id, "one more thing")

    ticket = await _ticket(store, ticket_id)
    assert (ticket.status, ticket.assignee_id, ticket.closed_at) == (TicketStatus.ON_YOU, alice, None)
    assert stored.message.conversation_id == conversation_id
    assert (await timeline_codes(store, ticket_id))[-1] == "reopened"
    async with store.read() as session:
        assert await session.scalar(select(Ticket.id).where(Ticket.conversation_id == conversation_id)) == ticket_id


@both_backends
async def test_reopen_pauses_the_ai_again_and_says_why(store: Store) -> None:
    alice, conversation_id, ticket_id = await _taken(store)
    bob = await add_teammate(store, "bob")
    await tickets.allow_ai_replies(store, ticket_id, alice)
    epoch = (await _conversation(store, conversation_id)).epoch
    assert (await _conversation(store, conversation_id)).ai_enabled

    await lifecycle.reopen(store, ticket_id, bob.id, "customer called back")

    ticket, conversation = await _ticket(store, ticket_id), await _conversation(store, conversation_id)
    assert (ticket.status, ticket.assignee_id, ticket.closed_at) == (TicketStatus.ON_YOU, bob.id, None)
    assert (conversation.status, conversation.ai_enabled) == (ConversationStatus.ESCALATED, False)
    assert conversation.epoch == epoch + 1  # a bot answer generated before is stale
    assert (await timeline_codes(store, ticket_id))[-3:] == ["reopened", "ai_paused", "assigned"]
    async with store.read() as session:
        kinds = [e.kind for e in await events.since(session, 0)]
    assert EventKind.AI_PAUSED in kinds
    with pytest.raises(StoreError, match="not closed"):
        await lifecycle.reopen(store, ticket_id, bob.id)


@both_backends
async def test_reopen_is_refused_while_another_ticket_is_open(store: Store) -> None:
    alice, conversation_id, ticket_id = await _taken(store)
    await tickets.allow_ai_replies(store, ticket_id, alice)
    newer = await escalation.escalate(store, conversation_id, source="takeover", actor_id=alice)

    with pytest.raises(StoreError, match=f"#{newer.ticket_id}"):
        await lifecycle.reopen(store, ticket_id, alice)
    assert (await _ticket(store, ticket_id)).status == TicketStatus.CLOSED


@both_backends
async def test_reopen_and_a_takeover_at_once_leave_one_open_ticket(store: Store) -> None:
    alice, conversation_id, ticket_id = await _taken(store)
    bob = await add_teammate(store, "bob")
    await tickets.allow_ai_replies(store, ticket_id, alice)

    outcomes = await asyncio.gather(
        lifecycle.reopen(store, ticket_id, alice, "back"),
        escalation.escalate(store, conversation_id, source="takeover", actor_id=bob.id),
        return_exceptions=True,
    )

    assert not any(isinstance(o, Exception) and not isinstance(o, StoreError) for o in outcomes), outcomes
    async with store.read() as session:
        open_tickets = list(
            await session.scalars(
                select(Ticket.id).where(Ticket.conversation_id == conversation_id, Ticket.status != "closed")
            )
        )
    assert len(open_tickets) == 1


@both_backends
async def test_lifecycle_refuses_closed_tickets(store: Store) -> None:
    alice, _conversation_id, ticket_id = await _taken(store)
    await tickets.allow_ai_replies(store, ticket_id, alice)
    for change in (
        lifecycle.set_pending(store, ticket_id, alice),
        lifecycle.snooze(store, ticket_id, alice, None),
        lifecycle.close_keeping_ai_paused(store, ticket_id, alice),
    ):
        with pytest.raises(StoreError, match="closed"):
            await change


@both_backends
async def test_pending_and_snoozed_views_and_their_counts(store: Store) -> None:
    from inbox_tui.core import views
    from inbox_tui.core.views import View

    alice, _conversation_id, ticket_id = await _taken(store)
    await lifecycle.set_pending(store, ticket_id, alice)
    async with store.read() as session:
        assert [row.id for row in await views.page(session, View.PENDING)] == [ticket_id]
        assert (await views.counts(session, alice))[View.PENDING] == 1
    await lifecycle.snooze(store, ticket_id, alice, None)
    async with store.read() as session:
        assert await views.page(session, View.PENDING) == []
        assert [row.id for row in await views.page(session, View.SNOOZED)] == [ticket_id]
        counts = await views.counts(session, alice)
    assert (counts[View.PENDING], counts[View.SNOOZED], counts[View.ALL_OPEN]) == (0, 1, 1)
