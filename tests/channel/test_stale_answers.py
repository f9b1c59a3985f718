"""No stale answer, by construction: a slow scripted model (through the real openai SDK)
answers after the conversation changed hands, and its answer (text or escalation) is
never stored nor sent. Every interleaving, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select

from inbox_tui.client.customer import CustomerClient
from inbox_tui.core import owed_replies, tickets
from inbox_tui.core.agents import add_agent
from inbox_tui.core.customer_status import is_status_line
from inbox_tui.core.escalation import escalate
from inbox_tui.core.events import EventKind
from inbox_tui.core.models import Conversation, Event, Message, Ticket, TicketSource
from inbox_tui.core.store import Store
from tests.conftest import both_backends
from tests.support.fake_openai import Behaviour, FakeOpenAI

SLOW = 2.0  # seconds the model takes to answer


@pytest.fixture
def fake_model():  # type: ignore[no-untyped-def]
    with FakeOpenAI() as fake:
        yield fake


def late_answer(kind: str) -> Behaviour:
    if kind == "text":
        return Behaviour(kind="text", content="A STALE ANSWER", delay=SLOW)
    return Behaviour(kind="tool_call", arguments={"reason": "STALE ESCALATION"}, delay=SLOW)


async def _asked(fake: FakeOpenAI, count: int = 1) -> None:
    deadline = time.monotonic() + 10
    while len(fake.requests) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert len(fake.requests) >= count, "the model was never asked"


async def _conversation_id(store: Store, public_id: str) -> int:
    async with store.read() as session:
        return int(await session.scalar(select(Conversation.id).where(Conversation.public_id == public_id)))


async def _thread(store: Store, conversation_id: int) -> list[tuple[str, str]]:
    async with store.read() as session:
        rows = await session.execute(
            select(Message.author, Message.text).where(Message.conversation_id == conversation_id).order_by(Message.id)
        )
        return [(author, text) for author, text in rows]


async def _count(store: Store, model, *where) -> int:  # type: ignore[no-untyped-def]
    async with store.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _settle(channel) -> None:  # type: ignore[no-untyped-def]
    """Let the late answer arrive and be dealt with, and a wrongly sent one reach the socket."""
    await asyncio.sleep(SLOW)
    await channel.server.wait_idle()
    await asyncio.sleep(0.3)


@both_backends
@pytest.mark.parametrize("kind", ["text", "tool_call"])
async def test_late_answer_after_a_takeover_is_dropped(start_channel, fake_model, kind: str) -> None:
    fake_model.push(late_answer(kind))
    channel = await start_channel(base_url=fake_model.base_url)
    ana, _ = await add_agent(channel.store, "ana", "Ana")
    async with CustomerClient(channel.url, customer={"id": "c1", "locale": "en"}) as chat:
        await chat.send("Where is my order?")
        await _asked(fake_model)
        conversation_id = await _conversation_id(channel.store, chat.conversation_id)
        takeover = await escalate(
            channel.store,
            conversation_id,
            source=TicketSource.TAKEOVER,
            actor_id=ana.id,
            settings=channel.runtime.escalation,
        )
        await _settle(channel)
        frames = chat.drain()
    assert not [f for f in frames if f.get("author") == "bot"]
    assert await _count(channel.store, Ticket) == 1
    assert await _count(channel.store, Event, Event.kind == EventKind.ESCALATED) == 1
    assert ("bot", "A STALE ANSWER") not in await _thread(channel.store, conversation_id)
    assert await owed_replies.pending(channel.store) == []
    async with channel.store.read() as session:
        ticket = await session.get(Ticket, takeover.ticket_id)
        assert ticket is not None and ticket.reason is None  # the takeover's, not the stale one's


@both_backends
@pytest.mark.parametrize("kind", ["text", "tool_call"])
async def test_late_answer_after_takeover_reply_and_allow_ai_is_dropped(start_channel, fake_model, kind: str) -> None:
    """t=0 the model is asked; a teammate takes over, replies and hands back to the AI
    before it answers: the answer was made for a thread that is gone."""
    fake_model.push(late_answer(kind), Behaviour(kind="text", content="A FRESH ANSWER"))
    channel = await start_channel(base_url=fake_model.base_url)
    ana, _ = await add_agent(channel.store, "ana", "Ana")
    async with CustomerClient(channel.url, customer={"id": "c1", "locale": "en"}) as chat:
        await chat.send("Where is my order?")
        await _asked(fake_model)
        conversation_id = await _conversation_id(channel.store, chat.conversation_id)
        takeover = await escalate(
            channel.store,
            conversation_id,
            source=TicketSource.TAKEOVER,
            actor_id=ana.id,
            settings=channel.runtime.escalation,
        )
        await asyncio.sleep(0.3)
        await tickets.send_agent_reply(channel.store, takeover.ticket_id, ana.id, "It left the warehouse today.")
        await asyncio.sleep(0.3)
        await tickets.allow_ai_replies(channel.store, takeover.ticket_id, ana.id)
        await chat.wait_for(lambda f: f["type"] == "mode" and f["mode"] == "bot")
        await _settle(channel)
        stale_frames = [f for f in chat.drain() if f.get("author") == "bot"]
        # The bot still answers what comes next, in the new epoch.
        await chat.send("Thanks! And the invoice?")
        fresh = await chat.wait_for(lambda f: f.get("author") == "bot")
    assert stale_frames == []
    assert fresh["text"] == "A FRESH ANSWER"
    thread = await _thread(channel.store, conversation_id)
    assert [text for author, text in thread if author == "bot"] == ["A FRESH ANSWER"]
    assert await _count(channel.store, Ticket) == 1  # a late escalate_to_human opened none
    assert await _count(channel.store, Event, Event.kind == EventKind.ESCALATED) == 1
    # The model saw the teammate's reply as a teammate's, not as its own words.
    turns = fake_model.requests[-1]["messages"]
    assert {"role": "assistant", "content": "It left the warehouse today."} not in turns
    assert any(t["role"] == "system" and "teammate Ana" in t["content"] and "warehouse" in t["content"] for t in turns)


@both_backends
async def test_late_escalation_after_another_node_escalated_escalates_once(
    start_channel, fake_model, database_url: str
) -> None:
    """Another process escalates while this node's model thinks; the model then asks for
    a human too: one ticket, one handoff message, one summary request."""
    fake_model.push(late_answer("tool_call"))
    channel = await start_channel(base_url=fake_model.base_url)
    other = Store(database_url)  # another process's store: its own connections
    try:
        async with CustomerClient(channel.url, customer={"id": "c1", "locale": "en"}) as chat:
            await chat.send("I want a refund")
            await _asked(fake_model)
            conversation_id = await _conversation_id(channel.store, chat.conversation_id)
            first = await escalate(
                other,
                conversation_id,
                source=TicketSource.ESCALATION,
                reason="refund dispute",
                settings=channel.runtime.escalation,
            )
            assert first.created
            await _settle(channel)
    finally:
        await other.close()
    assert await _count(channel.store, Ticket) == 1
    assert await _count(channel.store, Event, Event.kind == EventKind.ESCALATED) == 1
    thread = await _thread(channel.store, conversation_id)
    # One handoff (the status line after it says who holds the conversation).
    assert len([text for author, text in thread if author == "system" and not is_status_line(text)]) == 1
    summary_requests = [r for r in fake_model.requests if "response_format" in r]
    assert summary_requests == []  # the other node's worker summarizes; this node asked for none
    async with channel.store.read() as session:
        ticket = await session.get(Ticket, first.ticket_id)
        assert ticket is not None and ticket.reason == "refund dispute"


@both_backends
async def test_two_customer_messages_in_flight_are_answered_once_each_in_order(start_channel, fake_model) -> None:
    fake_model.push(
        Behaviour(kind="text", content="ANSWER ONE", delay=1.0), Behaviour(kind="text", content="ANSWER TWO", delay=1.0)
    )
    channel = await start_channel(base_url=fake_model.base_url)
    async with CustomerClient(channel.url, customer={"id": "c1", "locale": "en"}) as chat:
        await chat.send("First question")
        await chat.send("Second question")
        await chat.wait_for(lambda f: f.get("text") == "ANSWER TWO", timeout=10)
        await channel.server.wait_idle()
        conversation_id = await _conversation_id(channel.store, chat.conversation_id)
    thread = await _thread(channel.store, conversation_id)
    bot = [text for author, text in thread if author == "bot"]
    assert bot == ["ANSWER ONE", "ANSWER TWO"]
    # The first answer was made from the first question alone, the second from both.
    first_turns = [t["content"] for t in fake_model.requests[0]["messages"] if t["role"] == "user"]
    second_turns = [t["content"] for t in fake_model.requests[1]["messages"] if t["role"] == "user"]
    assert first_turns == ["First question"]
    assert second_turns == ["First question", "Second question"]
    assert await owed_replies.pending(channel.store) == []
