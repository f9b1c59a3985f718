"""The handoff flows end to end on a real SQLite file and on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from inbox_tui.core import conversations, escalation, events, tickets, views
from inbox_tui.core.events import EventKind
from inbox_tui.core.models import (
    Author,
    Conversation,
    ConversationStatus,
    Event,
    Message,
    SummaryState,
    Ticket,
    TicketSource,
    TicketStatus,
    TimelineEvent,
)
from inbox_tui.core.store import NotFound, Store, StoreError
from inbox_tui.core.views import View
from inbox_tui.settings import DEFAULT_HANDOFF_MESSAGE
from tests.conftest import both_backends
from tests.core.helpers import (
    add_teammate,
    count,
    events_after,
    last_event_id,
    message_count,
    new_conversation,
    timeline_codes,
)

TAKEOVER = TicketSource.TAKEOVER
ESCALATION = TicketSource.ESCALATION


async def _conversation(store: Store, conversation_id: int) -> Conversation:
    async with store.read() as session:
        found = await session.get(Conversation, conversation_id)
        assert found is not None
        return found


async def _ticket(store: Store, ticket_id: int) -> Ticket:
    async with store.read() as session:
        found = await session.get(Ticket, ticket_id)
        assert found is not None
        return found


@both_backends
async def test_start_and_resume_conversation(store: Store) -> None:
    started = await new_conversation(store, "c-1", name="Carla", locale="es-ES")
    assert started.conversation.status == ConversationStatus.LIVE
    assert started.conversation.ai_enabled
    assert started.conversation.language == "es"

    resumed = await conversations.resume_conversation(store, started.conversation.public_id, started.token)
    assert resumed.id == started.conversation.id
    assert resumed.customer_name == "Carla"

    with pytest.raises(NotFound):
        await conversations.resume_conversation(store, started.conversation.public_id, "wrong-token")
    with pytest.raises(NotFound):
        await conversations.resume_conversation(store, started.conversation.public_id, "")
    with pytest.raises(NotFound):
        await conversations.resume_conversation(store, "no-such-conversation", started.token)

    # A second conversation of the same customer reuses the contact (previous tickets need it).
    again = await new_conversation(store, "c-1", name="Carla")
    assert again.conversation.contact_id == started.conversation.contact_id
    assert again.token != started.token


@both_backends
async def test_customer_message_is_stored_once_per_client_id(store: Store) -> None:
    started = await new_conversation(store)
    conversation_id = started.conversation.id
    first = await conversations.record_customer_message(store, conversation_id, "Hola", client_id="m-1")
    resent = await conversations.record_customer_message(store, conversation_id, "Hola", client_id="m-1")
    other = await conversations.record_customer_message(store, conversation_id, "¿Hay alguien?", client_id="m-2")
    assert first.created and not resent.created and other.created
    assert resent.message.id == first.message.id
    assert await message_count(store, conversation_id) == 2
    row = await _conversation(store, conversation_id)
    assert row.message_count == 2 and row.last_message_preview == "¿Hay alguien?"
    # Messages without a client id are never merged.
    await conversations.record_customer_message(store, conversation_id, "hola otra vez")
    await conversations.record_customer_message(store, conversation_id, "hola otra vez")
    assert await message_count(store, conversation_id) == 4


@both_backends
async def test_concurrent_resends_store_one_message(database_url: str) -> None:
    # Two stores = two connection pools, as a reconnecting customer on two nodes would be.
    stores = [Store(database_url), Store(database_url)]
    try:
        started = await new_conversation(stores[0])
        conversation_id = started.conversation.id
        results = await asyncio.gather(
            *(
                conversations.record_customer_message(stores[i % 2], conversation_id, "same text", client_id="dup")
                for i in range(10)
            )
        )
        assert sum(r.created for r in results) == 1
        assert len({r.message.id for r in results}) == 1
        assert await message_count(stores[0], conversation_id) == 1
        assert (await _conversation(stores[0], conversation_id)).message_count == 1
    finally:
        for store in stores:
            await store.close()


@both_backends
async def test_takeover_claims_the_conversation_and_opens_a_ticket(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    started = await new_conversation(store, channel="whatsapp", first_message="My order never arrived.")
    conversation_id = started.conversation.id
    before = await last_event_id(store)

    result = await escalation.escalate(store, conversation_id, source=TAKEOVER, actor_id=ana.id)

    assert result.created
    assert result.assignee == ana
    assert result.status == TicketStatus.ON_YOU
    conversation = await _conversation(store, conversation_id)
    assert conversation.status == ConversationStatus.ESCALATED
    assert conversation.ai_enabled is False
    ticket = await _ticket(store, result.ticket_id)
    assert ticket.type == "live_chat"
    assert ticket.channel == "whatsapp"
    assert ticket.conversation_id == conversation_id
    assert ticket.contact_id == started.conversation.contact_id
    assert ticket.assignee_id == ana.id and ticket.created_by_id == ana.id
    assert ticket.source == TAKEOVER
    assert ticket.summary_state == SummaryState.PENDING

    assert await timeline_codes(store, result.ticket_id) == [
        "escalated",
        "ai_paused",
        "ticket_created",
        "assigned",
        "handoff_sent",
        "customer_told",  # who joined: the teammate who took over
    ]
    logged = await events_after(store, before)
    assert [e.kind for e in logged] == [
        EventKind.ESCALATED,
        EventKind.AI_PAUSED,
        EventKind.TICKET_CREATED,
        EventKind.ASSIGNED,
        EventKind.MESSAGE,
        EventKind.MESSAGE,  # the status line: Ana joined
    ]
    assert all(e.ticket_id == result.ticket_id and e.conversation_id == conversation_id for e in logged)
    assert logged[3].agent_id == ana.id

    # The customer is told, in the same thread, as a system message queued for delivery.
    queued = await conversations.undelivered_messages(store, conversation_id)
    assert [(m.author, m.text) for m in queued] == [
        (Author.SYSTEM, DEFAULT_HANDOFF_MESSAGE),
        (Author.SYSTEM, "Ana has joined the conversation."),
    ]

    # The conversation left the Conversations view and is on Ana.
    async with store.read() as session:
        assert conversation_id not in [c.id for c in await views.conversations(session)]
        assert [t.id for t in await views.tickets(session, View.ON_YOU, ana.id)] == [result.ticket_id]


@both_backends
async def test_handoff_uses_the_configured_translation(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    started = await new_conversation(store, locale="es", first_message="Necesito ayuda con mi pedido.")
    settings = escalation.EscalationSettings(
        handoff=escalation.HandoffConfig("Let me connect you.", {"es": "Te paso con el equipo."})
    )
    await escalation.escalate(store, started.conversation.id, source=TAKEOVER, actor_id=ana.id, settings=settings)
    queued = await conversations.undelivered_messages(store, started.conversation.id)
    assert [m.text for m in queued] == ["Te paso con el equipo.", "Ana se ha unido a la conversación."]


@both_backends
async def test_bot_escalation_routes_to_the_least_loaded_teammate(store: Store) -> None:
    ana = await add_teammate(store, "ana", capacity=2)
    ben = await add_teammate(store, "ben", capacity=1)
    await add_teammate(store, "cid", capacity=9, away=True)  # away: never routed to
    await add_teammate(store, "dee", capacity=9, online=False)  # no connected client
    chats = [await new_conversation(store, f"c-{i}", first_message="I want a refund") for i in range(4)]

    taken = await escalation.escalate(store, chats[0].conversation.id, source=TAKEOVER, actor_id=ana.id)
    assert taken.assignee == ana  # Ana now holds 1 of 2

    to_ben = await escalation.escalate(store, chats[1].conversation.id, source=ESCALATION, reason="refund dispute")
    assert to_ben.created and to_ben.assignee == ben  # least loaded: Ben 0 < Ana 1
    ticket = await _ticket(store, to_ben.ticket_id)
    assert ticket.source == ESCALATION and ticket.reason == "refund dispute"
    assert ticket.created_by_id is None

    to_ana = await escalation.escalate(store, chats[2].conversation.id, source=ESCALATION, reason="r")
    assert to_ana.assignee == ana  # Ben is at capacity

    nobody = await escalation.escalate(store, chats[3].conversation.id, source=ESCALATION, reason="r")
    assert nobody.created and nobody.assignee is None  # everyone full, away or offline
    assert nobody.status == TicketStatus.ON_YOU
    assert "unassigned" in await timeline_codes(store, nobody.ticket_id)
    async with store.read() as session:
        assert [t.id for t in await views.tickets(session, View.UNASSIGNED)] == [nobody.ticket_id]


@both_backends
async def test_escalate_is_idempotent(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    ben = await add_teammate(store, "ben")
    started = await new_conversation(store, first_message="help")
    conversation_id = started.conversation.id
    first = await escalation.escalate(store, conversation_id, source=TAKEOVER, actor_id=ana.id)
    events_before = await last_event_id(store)
    timeline_before = await count(store, TimelineEvent)
    messages_before = await message_count(store, conversation_id)

    by_ben = await escalation.escalate(store, conversation_id, source=TAKEOVER, actor_id=ben.id)
    by_bot = await escalation.escalate(store, conversation_id, source=ESCALATION, reason="again")

    for second in (by_ben, by_bot):
        assert not second.created
        assert second.ticket_id == first.ticket_id
        assert second.assignee == ana
        assert "Ana (@ana)" in second.holder_text
    assert await count(store, Ticket) == 1
    assert await last_event_id(store) == events_before
    assert await count(store, TimelineEvent) == timeline_before
    assert await message_count(store, conversation_id) == messages_before


@both_backends
async def test_escalate_refuses_bad_input_and_changes_nothing(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    started = await new_conversation(store)
    with pytest.raises(NotFound):
        await escalation.escalate(store, 999_999, source=TAKEOVER, actor_id=ana.id)
    with pytest.raises(NotFound):
        await escalation.escalate(store, started.conversation.id, source=TAKEOVER, actor_id=999_999)
    with pytest.raises(StoreError):
        await escalation.escalate(store, started.conversation.id, source=TAKEOVER)  # who?
    with pytest.raises(StoreError):
        await escalation.escalate(store, started.conversation.id, source="magic", actor_id=ana.id)
    assert await count(store, Ticket) == 0
    assert (await _conversation(store, started.conversation.id)).status == ConversationStatus.LIVE


@both_backends
async def test_agent_reply_waits_on_customer_and_customer_message_brings_it_back(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    started = await new_conversation(store, first_message="Where is my parcel?")
    conversation_id = started.conversation.id
    result = await escalation.escalate(store, conversation_id, source=TAKEOVER, actor_id=ana.id)
    handoff = await conversations.undelivered_messages(store, conversation_id)
    await conversations.mark_delivered(store, [m.id for m in handoff])
    before = await last_event_id(store)

    reply = await tickets.send_agent_reply(store, result.ticket_id, ana.id, "It ships today.", client_id="r-1")
    assert reply.author == Author.AGENT and reply.agent_id == ana.id and reply.name == "Ana"
    assert (await _ticket(store, result.ticket_id)).status == TicketStatus.WAITING_ON_CUSTOMER
    # Queued, not lost: it stays undelivered until a customer socket takes it.
    async with store.read() as session:
        stored = await session.get(Message, reply.id)
        assert stored is not None and stored.delivered_at is None
    assert [m.id for m in await conversations.undelivered_messages(store, conversation_id)] == [reply.id]
    # A resent reply (same client id) is stored once.
    again = await tickets.send_agent_reply(store, result.ticket_id, ana.id, "It ships today.", client_id="r-1")
    assert again.id == reply.id
    assert [e.kind for e in await events_after(store, before)] == [EventKind.MESSAGE, EventKind.TICKET_UPDATED]

    await conversations.mark_delivered(store, [reply.id])
    assert await conversations.undelivered_messages(store, conversation_id) == []

    answer = await conversations.record_customer_message(store, conversation_id, "Thanks! And the invoice?")
    assert answer.created
    assert (await _ticket(store, result.ticket_id)).status == TicketStatus.ON_YOU
    last = (await events_after(store, before))[-2:]
    assert [e.kind for e in last] == [EventKind.MESSAGE, EventKind.TICKET_UPDATED]
    assert last[0].ticket_id == result.ticket_id


@both_backends
async def test_note_with_mentions_of_existing_teammates(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    ben = await add_teammate(store, "ben")
    cid = await add_teammate(store, "cid")
    started = await new_conversation(store, first_message="Refund please")
    conversation_id = started.conversation.id
    result = await escalation.escalate(store, conversation_id, source=TAKEOVER, actor_id=ana.id)
    messages_before = await message_count(store, conversation_id)
    before = await last_event_id(store)

    note = await tickets.add_note(
        store,
        result.ticket_id,
        ana.id,
        "@ben can you check the refund? Not @nobody, and mail@example.com is not a mention. @BEN again.",
    )

    assert note.mentioned == (ben,)
    assert await message_count(store, conversation_id) == messages_before  # notes are never messages
    assert all(m.author == Author.SYSTEM for m in await conversations.undelivered_messages(store, conversation_id))
    logged = await events_after(store, before)
    assert [(e.kind, e.agent_id) for e in logged] == [(EventKind.NOTE, ana.id), (EventKind.MENTION, ben.id)]
    async with store.read() as session:
        assert [t.id for t in await views.tickets(session, View.MENTIONS, ben.id)] == [result.ticket_id]
        assert await views.tickets(session, View.MENTIONS, cid.id) == []
        assert await views.tickets(session, View.MENTIONS, ana.id) == []
        detail = await views.ticket_detail(session, result.ticket_id)
    notes = [entry for entry in detail.timeline if entry.kind == "note"]
    assert len(notes) == 1 and notes[0].author == ana and notes[0].text.startswith("@ben can you")


@both_backends
async def test_reassign(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    ben = await add_teammate(store, "ben")
    started = await new_conversation(store, first_message="hi")
    result = await escalation.escalate(store, started.conversation.id, source=TAKEOVER, actor_id=ana.id)

    assert await tickets.reassign(store, result.ticket_id, ben.id, ana.id) == ben
    async with store.read() as session:
        assert [t.id for t in await views.tickets(session, View.ON_YOU, ben.id)] == [result.ticket_id]
        assert await views.tickets(session, View.ON_YOU, ana.id) == []
    # Reassigned, and the customer told who joined (the new holder is online).
    assert (await timeline_codes(store, result.ticket_id))[-2:] == ["reassigned", "customer_told"]

    before = await last_event_id(store)
    assert await tickets.reassign(store, result.ticket_id, ben.id, ana.id) == ben  # no change, no event
    assert await last_event_id(store) == before

    assert await tickets.reassign(store, result.ticket_id, None, ben.id) is None
    async with store.read() as session:
        assert [t.id for t in await views.tickets(session, View.UNASSIGNED)] == [result.ticket_id]
    with pytest.raises(NotFound):
        await tickets.reassign(store, result.ticket_id, 999_999, ana.id)


@both_backends
async def test_allow_ai_replies_closes_the_ticket_and_resumes_the_bot(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    started = await new_conversation(store, first_message="I need a person")
    conversation_id = started.conversation.id
    first = await escalation.escalate(store, conversation_id, source=TAKEOVER, actor_id=ana.id)
    assert await conversations.record_bot_reply(store, conversation_id, "paused, dropped") is None
    before = await last_event_id(store)

    await tickets.allow_ai_replies(store, first.ticket_id, ana.id)

    ticket = await _ticket(store, first.ticket_id)
    conversation = await _conversation(store, conversation_id)
    assert ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None
    assert conversation.status == ConversationStatus.LIVE and conversation.ai_enabled is True
    assert (await timeline_codes(store, first.ticket_id))[-2:] == ["ai_resumed", "closed"]
    assert [e.kind for e in await events_after(store, before)] == [EventKind.AI_RESUMED, EventKind.TICKET_CLOSED]
    async with store.read() as session:
        assert conversation_id in [c.id for c in await views.conversations(session)]
        assert [t.id for t in await views.tickets(session, View.CLOSED)] == [first.ticket_id]
        assert await views.tickets(session, View.ALL_OPEN) == []
        assert await views.ticket_for_conversation(session, conversation_id) is None

    # The bot answers again, and a closed ticket refuses a second close, changing nothing.
    assert await conversations.record_bot_reply(store, conversation_id, "Back to the bot.") is not None
    after_bot = await last_event_id(store)
    with pytest.raises(StoreError):
        await tickets.allow_ai_replies(store, first.ticket_id, ana.id)
    with pytest.raises(StoreError):
        await tickets.send_agent_reply(store, first.ticket_id, ana.id, "too late")
    assert await last_event_id(store) == after_bot

    # A later takeover opens a new ticket; the first one is the requester's previous ticket.
    second = await escalation.escalate(store, conversation_id, source=TAKEOVER, actor_id=ana.id)
    assert second.created and second.ticket_id != first.ticket_id
    async with store.read() as session:
        detail = await views.ticket_detail(session, second.ticket_id)
    assert [t.id for t in detail.previous_tickets] == [first.ticket_id]
    assert detail.previous_tickets[0].status == TicketStatus.CLOSED


@both_backends
async def test_views_and_counts(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    ben = await add_teammate(store, "ben", online=False)
    chats = [
        await new_conversation(store, f"c-{i}", name=f"Customer {i}", first_message=f"message {i}") for i in range(6)
    ]
    # Newest activity first: conversation 2 gets a new message last.
    await conversations.record_customer_message(store, chats[2].conversation.id, "news")
    async with store.read() as session:
        live = await views.conversations(session)
    assert live[0].id == chats[2].conversation.id and live[0].preview == "news"
    assert {c.id for c in live} == {c.conversation.id for c in chats}

    mine = await escalation.escalate(store, chats[0].conversation.id, source=TAKEOVER, actor_id=ana.id)
    bens = await escalation.escalate(store, chats[1].conversation.id, source=TAKEOVER, actor_id=ben.id)
    closed = await escalation.escalate(store, chats[3].conversation.id, source=TAKEOVER, actor_id=ana.id)
    await tickets.allow_ai_replies(store, closed.ticket_id, ana.id)
    unassigned = await escalation.escalate(store, chats[2].conversation.id, source=ESCALATION, reason="r")
    assert unassigned.assignee == ana  # the only online, available teammate
    # Put back to Unassigned, it waits there (it is not routed straight back to Ana).
    await tickets.reassign(store, unassigned.ticket_id, None, ana.id)
    await tickets.add_note(store, bens.ticket_id, ben.id, "@ana FYI")

    async with store.read() as session:

        def ids(rows):  # type: ignore[no-untyped-def]
            return {row.id for row in rows}

        assert ids(await views.page(session, View.CONVERSATIONS)) == {chats[i].conversation.id for i in (3, 4, 5)}
        assert ids(await views.page(session, View.ON_YOU, ana.id)) == {mine.ticket_id}
        assert ids(await views.page(session, View.ON_YOU, ben.id)) == {bens.ticket_id}
        assert ids(await views.page(session, View.UNASSIGNED)) == {unassigned.ticket_id}
        assert ids(await views.page(session, View.ALL_OPEN)) == {mine.ticket_id, bens.ticket_id, unassigned.ticket_id}
        assert ids(await views.page(session, View.CLOSED)) == {closed.ticket_id}
        assert ids(await views.page(session, View.MENTIONS, ana.id)) == {bens.ticket_id}
        assert ids(await views.previous_tickets(session, chats[3].conversation.contact_id)) == {closed.ticket_id}
        # Paging: one row at a time walks the whole view without repeats.
        walked = [
            row.id for offset in range(3) for row in await views.page(session, View.ALL_OPEN, limit=1, offset=offset)
        ]
        assert sorted(walked) == sorted([mine.ticket_id, bens.ticket_id, unassigned.ticket_id])
        ana_counts = await views.counts(session, ana.id)
        nobody_counts = await views.counts(session, None)
        row = next(r for r in await views.page(session, View.ALL_OPEN) if r.id == bens.ticket_id)

    assert ana_counts == {
        View.CONVERSATIONS: 3,
        View.ON_YOU: 1,
        View.UNASSIGNED: 1,
        View.ALL_OPEN: 3,
        View.MENTIONS: 1,
        View.CLOSED: 1,
        View.PENDING: 0,
        View.SNOOZED: 0,
    }
    assert nobody_counts[View.ON_YOU] == 0 and nobody_counts[View.ALL_OPEN] == 3
    assert row.requester == "Customer 1" and row.assignee == ben and row.channel == "web"


@both_backends
async def test_event_log_ids_increase_and_resume(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    started = await new_conversation(store, first_message="one")
    await conversations.record_customer_message(store, started.conversation.id, "two")
    middle = await last_event_id(store)
    await escalation.escalate(store, started.conversation.id, source=TAKEOVER, actor_id=ana.id)
    await conversations.record_customer_message(store, started.conversation.id, "three")

    everything = await events_after(store, 0)
    ids = [e.id for e in everything]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    resumed = await events_after(store, middle)
    assert [e.id for e in resumed] == [i for i in ids if i > middle]
    assert resumed[0].kind == EventKind.ESCALATED
    assert resumed[-1].kind == EventKind.TICKET_UPDATED
    assert await events_after(store, ids[-1]) == []
    async with store.read() as session:
        assert [e.id for e in await events.since(session, 0, limit=2)] == ids[:2]
        stored = (await session.scalars(select(Event).order_by(Event.id.desc()).limit(1))).one()
    assert stored.id == ids[-1]
