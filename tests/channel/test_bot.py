"""The AI agent on the channel: the real openai SDK against a loopback fake, and the
offline bot."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from inbox_tui.client.customer import CustomerClient
from inbox_tui.core.agents import add_agent
from inbox_tui.core.escalation import escalate
from inbox_tui.core.models import Message, Ticket
from inbox_tui.settings import StatusLineSettings
from tests.support.fake_openai import Behaviour, FakeOpenAI


@pytest.fixture
def fake_model():  # type: ignore[no-untyped-def]
    with FakeOpenAI() as fake:
        yield fake


async def _messages(store, conversation_public_id: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    from inbox_tui.core.models import Conversation

    async with store.read() as session:
        rows = await session.execute(
            select(Message.author, Message.text)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.public_id == conversation_public_id)
            .order_by(Message.id)
        )
        return [tuple(row) for row in rows]


async def test_model_answers_and_sees_instructions_knowledge_and_the_tool(start_channel, fake_model) -> None:
    fake_model.push(Behaviour(kind="text", content="Orders arrive in 3 to 5 days."))
    channel = await start_channel(base_url=fake_model.base_url)
    async with CustomerClient(channel.url, customer={"id": "c1", "name": "Ana", "locale": "en"}) as chat:
        await chat.send("When will my parcel arrive?")
        reply = await chat.wait_for(lambda f: f.get("author") == "bot")
    assert reply["text"] == "Orders arrive in 3 to 5 days."
    request = fake_model.requests[0]
    system = request["messages"][0]["content"]
    assert "Orders ship within 2 business days" in system  # the knowledge file
    assert "language is 'en'" in system
    assert request["messages"][-1] == {"role": "user", "content": "When will my parcel arrive?"}
    tool = request["tools"][0]["function"]
    assert tool["name"] == "escalate_to_human"
    assert "refund dispute" in tool["description"]  # the configured triggers


async def test_tool_call_escalates_and_the_model_translates_the_handoff(start_channel, fake_model) -> None:
    """Dutch has no configured handoff translation: the model translates it."""
    fake_model.push(
        Behaviour(kind="tool_call", arguments={"reason": "wants a refund"}),
        Behaviour(kind="text", content="Ik verbind je met een collega."),
        Behaviour(
            kind="json", data={"subject": "Terugbetaling", "summary": "De klant wil geld terug.", "language": "nl"}
        ),
    )
    # The team wrote its Dutch status lines: the model is asked for the handoff only (the
    # status lines' own translation is tested in tests/attention/test_status_lines.py).
    dutch = StatusLineSettings(
        queued={"nl": "U staat in de wachtrij."},
        joined={"nl": "{name} is erbij."},
        back_at={"nl": "We zijn terug om {when}."},
    )
    channel = await start_channel(adjust=lambda s: s.replace(status_lines=dutch), base_url=fake_model.base_url)
    async with CustomerClient(
        channel.url, channel="whatsapp", customer={"id": "nl-1", "name": "Joost", "locale": "nl"}
    ) as chat:
        await chat.send("Ik wil mijn geld terug voor bestelling 12")
        assert (await chat.wait_for(lambda f: f["type"] == "mode"))["mode"] == "human"
        handoff = await chat.wait_for(lambda f: f.get("author") == "system")
    assert handoff["text"] == "Ik verbind je met een collega."
    await channel.server.wait_idle()
    async with channel.store.read() as session:
        ticket = await session.scalar(select(Ticket))
    assert ticket.source == "escalation" and ticket.reason == "wants a refund"
    assert ticket.channel == "whatsapp"
    assert ticket.subject == "Terugbetaling" and ticket.summary_state == "ready"


async def test_broken_model_falls_back_to_the_offline_bot(start_channel, fake_model) -> None:
    # A 500 that says not to retry, then a body that is not JSON.
    fake_model.push(
        Behaviour(kind="status", status=500, headers={"x-should-retry": "false"}), Behaviour(kind="garbage")
    )
    channel = await start_channel(base_url=fake_model.base_url)
    async with CustomerClient(channel.url, customer={"id": "c1", "locale": "en"}) as chat:
        await chat.send("What are your opening hours?")
        first = await chat.wait_for(lambda f: f.get("author") == "bot")
        await chat.send("Something about the weather")
        second = await chat.wait_for(lambda f: f.get("author") == "bot")
    assert "Monday to Friday" in first["text"]  # the knowledge file, offline
    assert second["text"] == channel.runtime.settings.bot.fallback_message


async def test_slow_reply_is_dropped_after_a_takeover(start_channel, fake_model) -> None:
    fake_model.push(Behaviour(kind="text", content="A LATE BOT REPLY", delay=1.5))
    channel = await start_channel(base_url=fake_model.base_url)
    ana, _token = await add_agent(channel.store, "ana", "Ana")
    async with CustomerClient(channel.url, customer={"id": "c1", "locale": "en"}) as chat:
        await chat.send("Tell me about my order")
        deadline = time.monotonic() + 5
        while not fake_model.requests and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert fake_model.requests, "the model was never asked"
        # The model is still thinking: a teammate takes over.
        async with channel.store.read() as session:
            from inbox_tui.core.models import Conversation

            conversation_id = await session.scalar(select(Conversation.id))
        result = await escalate(
            channel.store, conversation_id, source="takeover", actor_id=ana.id, settings=channel.runtime.escalation
        )
        assert result.created
        await chat.wait_for(lambda f: f["type"] == "mode" and f["mode"] == "human")
        await channel.server.wait_idle()  # the model answered meanwhile; the reply was dropped
        await asyncio.sleep(0.3)  # give a wrongly stored reply the time to reach the socket
        frames = chat.drain()
        assert not [f for f in frames if f.get("author") == "bot"]
        assert "A LATE BOT REPLY" not in [m["text"] for m in chat.messages.values()]
    assert ("bot", "A LATE BOT REPLY") not in await _messages(channel.store, chat.conversation_id)


HUMAN_REQUESTS = {
    "en": "Can I talk to a person please?",
    "es": "Quiero hablar con una persona, por favor",
    "de": "Ich möchte mit einem Menschen sprechen",
    "fr": "Je voudrais parler à un conseiller",
    "pt": "Quero falar com um atendente",
}


async def test_offline_bot_answers_from_knowledge_and_escalates_human_requests(start_channel) -> None:
    channel = await start_channel()

    async def customer(language: str, text: str) -> tuple[str, list[dict]]:
        async with CustomerClient(channel.url, customer={"id": f"c-{language}", "locale": language}) as chat:
            await chat.send(text)
            frame = await chat.wait_for(lambda f: f["type"] == "mode" or f.get("author") == "bot")
            if frame["type"] == "mode":
                await chat.wait_for(lambda f: f.get("author") == "system")
            return frame.get("mode") or frame["text"], list(chat.messages.values())

    results = await asyncio.gather(
        *(customer(lang, text) for lang, text in HUMAN_REQUESTS.items()), customer("es-2", "¿Cuánto tarda el envío?")
    )
    for (outcome, thread), language in zip(results[:5], HUMAN_REQUESTS, strict=True):
        assert outcome == "human", language
        handoff = next(m for m in thread if m["author"] == "system")["text"]
        assert handoff == channel.runtime.settings.bot.handoff_translations[language]
    assert "2 business days" in results[5][0]
    await channel.server.wait_idle()
    async with channel.store.read() as session:
        tickets = list(await session.scalars(select(Ticket)))
    assert len(tickets) == 5
    assert all(t.source == "escalation" and t.summary_state == "fallback" for t in tickets)
