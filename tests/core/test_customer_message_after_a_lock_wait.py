"""A customer's message that waited for the conversation's lock acts on what is true
when it gets the lock, not on what was true when it asked. On PostgreSQL a
``SELECT … FOR UPDATE`` that waited returns the locked conversation's new row but the
rows joined to it as they were before the wait; the customer-message flow once took its
open ticket from that join, so a message that raced Allow AI replies put the ticket
Allow AI had just closed back On you: a closed ticket alive again under a live bot,
and every later takeover of the conversation refused with that ticket.

The interleaving is forced, step by step: a hand-back holds the conversation's lock
with the ticket closed, the customer's message is parked on that lock, then the
hand-back commits; likewise with an escalation. (Found by the lock-order race across
processes.)"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from inbox_tui.core import conversations, escalation
from inbox_tui.core.conversations import lock_conversation_and_ticket
from inbox_tui.core.escalation import escalate
from inbox_tui.core.events import EventKind
from inbox_tui.core.models import ConversationStatus, Ticket, TicketSource, TicketStatus
from inbox_tui.core.store import Store
from tests.conftest import BACKENDS
from tests.core.helpers import add_teammate, done_or_parked_on_a_lock, events_after, last_event_id, new_conversation


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", [p for p in BACKENDS if p.id == "postgresql"], indirect=True)
async def test_a_message_that_waited_for_a_hand_back_leaves_the_closed_ticket_closed(database_url: str) -> None:
    handing_back, customer, observer = Store(database_url), Store(database_url), Store(database_url)
    try:
        ana = await add_teammate(handing_back, "ana")
        conversation_id = (await new_conversation(handing_back, "c1", first_message="hello")).conversation.id
        ticket_id = (
            await escalate(handing_back, conversation_id, source=TicketSource.TAKEOVER, actor_id=ana.id)
        ).ticket_id
        closed, may_commit = asyncio.Event(), asyncio.Event()

        async def hand_back() -> None:
            # What Allow AI replies writes, held open until the customer's message waits.
            async with handing_back.write() as session:
                conversation, ticket = await lock_conversation_and_ticket(session, ticket_id)
                conversation.status = ConversationStatus.LIVE
                conversation.ai_enabled = True
                conversation.epoch = (conversation.epoch or 0) + 1
                ticket.status = TicketStatus.CLOSED
                await session.flush()
                closed.set()
                await may_commit.wait()

        back = asyncio.create_task(hand_back())
        await closed.wait()
        message = asyncio.create_task(conversations.record_customer_message(customer, conversation_id, "thanks!"))
        await done_or_parked_on_a_lock(observer, message)
        may_commit.set()
        await asyncio.gather(back, message)
        async with observer.read() as session:
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None and ticket.status == TicketStatus.CLOSED
        # The conversation is the bot's again, and a new takeover opens a new ticket.
        again = await escalate(observer, conversation_id, source=TicketSource.TAKEOVER, actor_id=ana.id)
        assert again.created and again.ticket_id != ticket_id
    finally:
        for store in (handing_back, customer, observer):
            await store.close()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", [p for p in BACKENDS if p.id == "postgresql"], indirect=True)
async def test_a_message_that_waited_for_an_escalation_counts_on_the_new_ticket(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other side of the same wait: the escalation commits a new ticket while the
    message waits; the message is the new ticket's (its event names it, and the ticket
    is On you again), not a message of no ticket."""
    escalating, customer, observer = Store(database_url), Store(database_url), Store(database_url)
    claimed, may_commit = asyncio.Event(), asyncio.Event()
    choose_assignee = escalation.choose_assignee

    async def choose_when_told(*args: Any) -> Any:
        # Inside the escalation's transaction, the conversation claimed and locked.
        claimed.set()
        await may_commit.wait()
        return await choose_assignee(*args)

    monkeypatch.setattr(escalation, "choose_assignee", choose_when_told)
    try:
        await add_teammate(escalating, "ana")
        conversation_id = (await new_conversation(escalating, "c1", first_message="hello")).conversation.id
        start = await last_event_id(observer)
        escalated = asyncio.create_task(
            escalate(escalating, conversation_id, source=TicketSource.ESCALATION, reason="asked for a person")
        )
        await claimed.wait()
        message = asyncio.create_task(conversations.record_customer_message(customer, conversation_id, "anyone?"))
        await done_or_parked_on_a_lock(observer, message)
        may_commit.set()
        result, stored = await asyncio.gather(escalated, message)
        logged = await events_after(observer, start)
    finally:
        for store in (escalating, customer, observer):
            await store.close()
    said = [
        e for e in logged if e.kind == EventKind.MESSAGE and (e.payload or {}).get("message_id") == stored.message.id
    ]
    assert [e.ticket_id for e in said] == [result.ticket_id]
    assert any(e.kind == EventKind.TICKET_UPDATED and e.ticket_id == result.ticket_id for e in logged[-2:])
