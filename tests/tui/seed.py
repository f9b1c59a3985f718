"""A small, realistic inbox on a real store, written through the core flows."""

from __future__ import annotations

from dataclasses import dataclass

from inbox_tui.ai.offline import OfflineAI
from inbox_tui.core.agents import add_agent
from inbox_tui.core.conversations import record_bot_reply, record_customer_message, start_conversation
from inbox_tui.core.escalation import EscalationSettings, escalate, summarize_ticket
from inbox_tui.core.models import TicketSource
from inbox_tui.core.store import Store
from inbox_tui.core.tickets import add_note, allow_ai_replies, send_agent_reply

MARKUP_ATTACKS = ("[@click=app.quit]x[/]", "[b]bold?[/b]", "\x1b]52;c;cGF3bmVk\x07")


@dataclass
class Seeded:
    ana_id: int
    ana_token: str
    bob_id: int
    bob_token: str
    live_ids: list[int]
    ticket_on_ana: int
    unassigned_ticket: int
    closed_ticket: int
    maria_conversation: int


async def seed_inbox(store: Store, clock) -> Seeded:  # type: ignore[no-untyped-def]
    ana, ana_token = await add_agent(store, "ana", "Ana Lima", capacity=5, timezone="Europe/Lisbon")
    bob, bob_token = await add_agent(store, "bob", "Bob Stone", capacity=3)
    ai = OfflineAI()
    live_ids: list[int] = []
    people = [
        ("web", "u1", "Maria García", "es", ["Hola, ¿dónde está mi pedido?", "Es el pedido 4411."]),
        ("whatsapp", "u2", "Jonas Weber", "de", ["Wie ändere ich meine Adresse?"]),
        ("web", "u3", "Claire Martin", "fr", ["Bonjour, je voudrais un remboursement."]),
        ("web", "u4", "Sam Lee", "en", ["How do I reset my password?", "I never got the email."]),
        ("email", "u5", "Priya Shah", "en", ["Can I change my plan mid-month?"]),
    ]
    maria = 0
    for channel, external, name, locale, messages in people:
        started = await start_conversation(store, channel=channel, customer_id=external, name=name, locale=locale)
        cid = started.conversation.id
        for text in messages:
            clock.advance(minutes=1)
            await record_customer_message(store, cid, text, client_id=f"{external}-{text[:8]}")
            await record_bot_reply(store, cid, "Let me check that for you.")
        live_ids.append(cid)
        if external == "u1":
            maria = cid
    settings = EscalationSettings()
    # A ticket on Ana (takeover), summarized; a note mentioning Bob.
    clock.advance(minutes=2)
    on_ana = await escalate(store, live_ids[3], source=TicketSource.TAKEOVER, actor_id=ana.id, settings=settings)
    await summarize_ticket(store, ai, on_ana.ticket_id, timeout=5)
    await send_agent_reply(store, on_ana.ticket_id, ana.id, "I have re-sent the reset email, Sam.")
    await add_note(store, on_ana.ticket_id, ana.id, "Checked the mail logs, @bob please look at bounces.")
    # Maria: an old closed ticket, then a new unassigned one (previous tickets).
    clock.advance(minutes=1)
    old = await escalate(store, maria, source=TicketSource.TAKEOVER, actor_id=bob.id, settings=settings)
    await summarize_ticket(store, ai, old.ticket_id, timeout=5)
    await allow_ai_replies(store, old.ticket_id, bob.id)
    clock.advance(minutes=1)
    await record_customer_message(store, maria, "Quiero hablar con una persona.", client_id="u1-persona")
    unassigned = await escalate(
        store,
        maria,
        source=TicketSource.ESCALATION,
        reason="the customer asked for a person",
        settings=EscalationSettings(assignment=_nobody()),
    )
    clock.advance(minutes=3)
    return Seeded(
        ana.id,
        ana_token,
        bob.id,
        bob_token,
        [c for c in live_ids if c not in (maria, live_ids[3])],
        on_ana.ticket_id,
        unassigned.ticket_id,
        old.ticket_id,
        maria,
    )


@dataclass
class Queue:
    """What ``seed_queue`` added: tickets whose customers wait, and a namesake of Maria."""

    waiting_on_ana: int
    waiting_on_bob: int
    other_maria_ticket: int
    other_priya_conversation: int


async def seed_queue(store: Store, clock, seeded: Seeded) -> Queue:  # type: ignore[no-untyped-def]
    """On top of ``seed_inbox``: customers waiting for different lengths of time, news
    Ana has not seen, and two pairs of different customers of one name (a second Maria
    García with a ticket, a second Priya Shah talking to the bot)."""
    settings = EscalationSettings()
    ai = OfflineAI()

    async def ticket_for(
        external: str, name: str, email: str | None, channel: str, locale: str, agent: int, first: str
    ) -> int:
        started = await start_conversation(
            store, channel=channel, customer_id=external, name=name, email=email, locale=locale
        )
        cid = started.conversation.id
        await record_customer_message(store, cid, first, client_id=f"{external}-first")
        opened = await escalate(store, cid, source=TicketSource.TAKEOVER, actor_id=agent, settings=settings)
        await summarize_ticket(store, ai, opened.ticket_id, timeout=5)
        return opened.ticket_id

    # Claire's ticket is on Ana; Ana answered, then Claire wrote twice and waits since.
    clock.advance(minutes=1)
    on_ana = await ticket_for(
        "u7", "Claire Dubois", "claire@exemple.fr", "web", "fr", seeded.ana_id, "Ma commande n'est pas arrivée."
    )
    await send_agent_reply(store, on_ana, seeded.ana_id, "Bonjour Claire, je regarde votre commande.")
    clock.advance(minutes=1)
    claire = await _conversation_of(store, on_ana)
    await record_customer_message(store, claire, "C'est la commande 5120.", client_id="u7-a")
    await record_customer_message(store, claire, "Vous êtes là ?", client_id="u7-b")
    # Jonas's ticket is on Bob; Bob answered and Jonas answered back (news for Ana too).
    clock.advance(minutes=3)
    on_bob = await ticket_for(
        "u8", "Jonas Becker", None, "whatsapp", "de", seeded.bob_id, "Meine Rechnung wurde doppelt abgebucht."
    )
    await send_agent_reply(store, on_bob, seeded.bob_id, "Hallo Jonas, ich kümmere mich darum.")
    clock.advance(minutes=2)
    await record_customer_message(store, await _conversation_of(store, on_bob), "Danke, ich warte.", client_id="u8-a")
    # A second Maria García (another customer), on Bob, who has not answered yet.
    clock.advance(minutes=2)
    maria = await ticket_for(
        "u9",
        "Maria García",
        "maria.g@correo.es",
        "web",
        "es",
        seeded.bob_id,
        "Quiero cambiar la talla de mis zapatillas.",
    )
    # A second Priya Shah talks to the bot.
    clock.advance(minutes=1)
    priya = await start_conversation(
        store, channel="web", customer_id="u10", name="Priya Shah", email="pshah@mail.in", locale="en"
    )
    await record_customer_message(store, priya.conversation.id, "Is there a student discount?", client_id="u10-a")
    await record_bot_reply(store, priya.conversation.id, "Let me check that for you.")
    clock.advance(minutes=3)
    return Queue(on_ana, on_bob, maria, priya.conversation.id)


async def _conversation_of(store: Store, ticket_id: int) -> int:
    from inbox_tui.core.models import Ticket

    async with store.read() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket.conversation_id


def _nobody():  # type: ignore[no-untyped-def]
    """Assignment settings under which nobody is picked (nobody is online in the seed)."""
    from inbox_tui.settings import AssignmentSettings

    return AssignmentSettings(next_shift_fallback=False)


__all__ = ["MARKUP_ATTACKS", "Queue", "Seeded", "seed_inbox", "seed_queue"]
