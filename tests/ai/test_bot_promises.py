"""The bot keeps its promises, end to end through the real channel server and store:
the offer of a teammate is kept after a restart, a no keeps the bot, the customer's
language is used even for a message too short to detect, and a model gets the
retrieved passages (not the whole knowledge base) and a tool that says when to escalate.
The model is the real openai SDK against a loopback scripted server."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from inbox_tui.ai.phrasebook import (
    ACCEPTED_OFFER_REASON,
    DECLINED_LINES,
    FALLBACK_LINES,
)
from inbox_tui.client.customer import CustomerClient
from inbox_tui.core.models import Ticket
from inbox_tui.settings import DEFAULT_HANDOFF_TRANSLATIONS, Settings
from tests.conftest import both_backends
from tests.support.fake_openai import Behaviour, FakeOpenAI


def _bot(frame: dict) -> bool:
    return frame.get("type") == "message" and frame.get("author") == "bot"


@both_backends
async def test_a_yes_to_the_offer_escalates_even_after_a_restart(serve) -> None:
    channel = await serve()
    chat = CustomerClient(channel.url, customer={"id": "es-1", "name": "Elena", "locale": "es-ES"})
    await chat.connect()
    await chat.send("¿Hacéis descuentos para estudiantes?")
    offer = await chat.wait_for(_bot)
    assert offer["text"] == FALLBACK_LINES["es"]
    await chat.close()
    await channel.stop()

    restarted = await serve()
    again = CustomerClient(
        restarted.url, customer=chat.customer, conversation_id=chat.conversation_id, token=chat.token
    )
    await again.connect()
    try:
        await again.send("Sí, por favor")
        assert (await again.wait_for(lambda f: f["type"] == "mode"))["mode"] == "human"
        handoff = await again.wait_for(lambda f: f.get("author") == "system")
    finally:
        await again.close()
    assert handoff["text"] == DEFAULT_HANDOFF_TRANSLATIONS["es"]
    await restarted.server.wait_idle()
    async with restarted.store.read() as session:
        tickets = list(await session.scalars(select(Ticket)))
    assert len(tickets) == 1 and tickets[0].reason == ACCEPTED_OFFER_REASON


async def test_a_no_keeps_the_bot_and_a_short_message_gets_the_hellos_language(serve) -> None:
    channel = await serve()
    async with CustomerClient(channel.url, customer={"id": "de-1", "locale": "de-DE"}) as chat:
        await chat.send("Hilfe!!")  # too short to detect: the hello's language decides
        assert (await chat.wait_for(_bot))["text"] == FALLBACK_LINES["de"]
        await chat.send("Nein danke")
        assert (await chat.wait_for(_bot))["text"] == DECLINED_LINES["de"]
        await chat.send("Wie lange dauert die Lieferung?")
        assert "business days" in (await chat.wait_for(_bot))["text"]
        assert chat.mode == "bot"
    async with CustomerClient(channel.url, customer={"id": "es-2", "locale": "es"}) as chat:
        await chat.send("¡Ayuda ya!")
        assert (await chat.wait_for(_bot))["text"] == FALLBACK_LINES["es"]
    await channel.server.wait_idle()
    async with channel.store.read() as session:
        assert list(await session.scalars(select(Ticket))) == []


def _big_knowledge(path: Path) -> Path:
    """About 57 KB of unrelated topics around the one that answers the question."""
    sections = [
        f"## Topic {i}: frame size {i}\nModel {i} comes in sizes S, M and L; "
        f"the {i} series uses aluminium tubing number {i}. " + "Filler text about bicycles. " * 12
        for i in range(120)
    ]
    sections.insert(
        60,
        "## Shipping times\nOrders ship within 2 business days and arrive in 3 to 5 days.\n"
        "Keywords: delivery, parcel, arrive",
    )
    path.write_text("# Shop\n\n" + "\n\n".join(sections), encoding="utf-8")
    assert path.stat().st_size > 50_000
    return path


async def test_the_model_gets_the_retrieved_passages_and_the_configured_triggers(serve, tmp_path: Path) -> None:
    knowledge = _big_knowledge(tmp_path / "big.md")

    def adjust(settings: Settings) -> Settings:
        bot = settings.bot.replace(
            knowledge_file=str(knowledge),
            escalation_triggers=["the customer mentions a lawyer", "a refund dispute"],
        )
        return settings.replace(bot=bot)

    with FakeOpenAI() as fake:
        fake.push(
            Behaviour(content="Orders arrive in 3 to 5 days."),
            Behaviour(content="I can't find that; shall I get a teammate?"),
        )
        channel = await serve(adjust, base_url=fake.base_url)
        async with CustomerClient(channel.url, customer={"id": "c1", "locale": "en"}) as chat:
            await chat.send("When will my parcel arrive?")
            await chat.wait_for(_bot)
            await chat.send("Do you sponsor marathon runners?")
            await chat.wait_for(_bot)
    answered, unknown = fake.requests
    system = answered["messages"][0]["content"]
    assert "Orders ship within 2 business days" in system
    assert "Topic 7:" not in system and len(system) < 5_000  # passages, not the 57 KB file
    assert "nothing in the knowledge base matches" in unknown["messages"][0]["content"]
    assert "offer a teammate" in unknown["messages"][0]["content"]
    tool = answered["tools"][0]["function"]
    assert "the customer mentions a lawyer" in tool["description"]
    assert ACCEPTED_OFFER_REASON in tool["description"]


async def test_the_models_accepted_offer_is_an_escalation_with_its_reason(serve) -> None:
    with FakeOpenAI() as fake:
        fake.push(
            Behaviour(content=FALLBACK_LINES["en"]),
            Behaviour(kind="tool_call", arguments={"reason": ACCEPTED_OFFER_REASON}),
        )
        channel = await serve(base_url=fake.base_url)
        async with CustomerClient(channel.url, customer={"id": "c1", "locale": "en"}) as chat:
            await chat.send("Do you sponsor marathon runners?")
            await chat.wait_for(_bot)
            await chat.send("yes please")
            assert (await chat.wait_for(lambda f: f["type"] == "mode"))["mode"] == "human"
        await channel.server.wait_idle()
    # The model saw its own offer before the yes.
    assert [m["role"] for m in fake.requests[1]["messages"][-2:]] == ["assistant", "user"]
    async with channel.store.read() as session:
        ticket = await session.scalar(select(Ticket))
    assert ticket is not None and ticket.reason == ACCEPTED_OFFER_REASON


async def test_a_short_first_message_escalated_by_the_model_gets_the_hellos_language(serve) -> None:
    """ "¡Ayuda ya!" is too short to detect; the hello said es: the handoff is Spanish."""
    with FakeOpenAI() as fake:
        fake.push(Behaviour(kind="tool_call", arguments={"reason": "urgent"}))
        channel = await serve(base_url=fake.base_url)
        async with CustomerClient(channel.url, customer={"id": "es-3", "locale": "es-MX"}) as chat:
            await chat.send("¡Ayuda ya!")
            handoff = await chat.wait_for(lambda f: f.get("author") == "system")
        await channel.server.wait_idle()
    assert handoff["text"] == DEFAULT_HANDOFF_TRANSLATIONS["es"]
    assert "language is 'es'" in fake.requests[0]["messages"][0]["content"]
