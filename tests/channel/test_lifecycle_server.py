"""The ticket lifecycle through the real server: a customer's message over /chat brings
a snoozed ticket back, the server wakes a snooze whose time came (a pinned clock), and a
ticket closed with the AI kept paused reopens when the customer writes again."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from inbox_tui.channel import snooze_waker
from inbox_tui.client.customer import CustomerClient
from inbox_tui.core import lifecycle
from inbox_tui.core.agents import add_agent
from inbox_tui.core.escalation import escalate
from inbox_tui.core.models import Author, Conversation, Message, Ticket, TicketSource, TicketStatus
from inbox_tui.core.store import Store
from tests.conftest import FixedClock, both_backends


async def _status_becomes(store: Store, ticket_id: int, status: str) -> Ticket:
    for _ in range(400):
        async with store.read() as session:
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            if ticket.status == status:
                return ticket
        await asyncio.sleep(0.025)
    raise AssertionError(f"ticket #{ticket_id} never became {status}")


async def _bot_messages(store: Store, conversation_id: int) -> int:
    async with store.read() as session:
        rows = await session.scalars(
            select(Message.id).where(Message.conversation_id == conversation_id, Message.author == Author.BOT)
        )
        return len(list(rows))


@both_backends
async def test_lifecycle_through_the_server(start_channel: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snooze_waker, "WAKE_INTERVAL_SECONDS", 0.05)
    channel = await start_channel()
    store: Store = channel.store
    clock = FixedClock(store.now())
    store.clock = clock  # the server's own store: its waker reads this clock
    agent, _token = await add_agent(store, "ana", "Ana Lima")

    async with CustomerClient(channel.url, customer={"id": "c1", "locale": "en"}) as chat:
        await chat.send("Where is my order?")
        async with store.read() as session:
            conversation_id = int(
                await session.scalar(select(Conversation.id).where(Conversation.public_id == chat.conversation_id))
            )
        claimed = await escalate(store, conversation_id, source=TicketSource.TAKEOVER, actor_id=agent.id)
        ticket_id = claimed.ticket_id

        # Snoozed for an hour; the customer writes: back on Ana at once.
        await lifecycle.snooze(store, ticket_id, agent.id, clock.now + timedelta(hours=1))
        await chat.send("Any news?")
        ticket = await _status_becomes(store, ticket_id, TicketStatus.ON_YOU)
        assert ticket.snoozed_until is None

        # Snoozed again; the time comes: the server wakes it.
        await lifecycle.snooze(store, ticket_id, agent.id, clock.now + timedelta(hours=2))
        await asyncio.sleep(0.2)  # a few sweeps of the waker: too early, it stays asleep
        assert (await _status_becomes(store, ticket_id, TicketStatus.SNOOZED)).snoozed_until is not None
        clock.advance(hours=2)
        await _status_becomes(store, ticket_id, TicketStatus.ON_YOU)

        # Closed with the AI kept paused: the customer writes, the ticket reopens on Ana
        # and the bot stays quiet.
        bot_before = await _bot_messages(store, conversation_id)
        await lifecycle.close_keeping_ai_paused(store, ticket_id, agent.id)
        await chat.send("One more thing")
        ticket = await _status_becomes(store, ticket_id, TicketStatus.ON_YOU)
        assert ticket.assignee_id == agent.id and ticket.closed_at is None
        await asyncio.sleep(0.2)
        assert await _bot_messages(store, conversation_id) == bot_before
