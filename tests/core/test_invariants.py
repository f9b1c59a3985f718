"""Invariants that must hold even when the flows are bypassed or raced."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import IntegrityError

from inbox_tui.core import conversations, escalation, tickets
from inbox_tui.core.models import Author, Message, Ticket, TicketSource, TicketStatus, TimelineEvent
from inbox_tui.core.store import Store
from tests.conftest import both_backends
from tests.core.helpers import add_teammate, count, message_count, new_conversation


def _raw_ticket(conversation_id: int, contact_id: int, store: Store, status: str) -> Ticket:
    now = store.now()
    return Ticket(
        type="live_chat",
        conversation_id=conversation_id,
        contact_id=contact_id,
        channel="web",
        subject="",
        summary="",
        summary_state="pending",
        status=status,
        source=TicketSource.TAKEOVER,
        handoff_pending=False,
        created_at=now,
        updated_at=now,
    )


@both_backends
async def test_the_database_refuses_a_second_open_ticket(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    started = await new_conversation(store, first_message="hello")
    conversation_id, contact_id = started.conversation.id, started.conversation.contact_id
    await escalation.escalate(store, conversation_id, source=TicketSource.TAKEOVER, actor_id=ana.id)

    # Straight through the ORM, past every check in the flows: the partial unique index says no.
    for status in TicketStatus.OPEN:
        with pytest.raises(IntegrityError):
            async with store.write() as session:
                session.add(_raw_ticket(conversation_id, contact_id, store, status))
    assert await count(store, Ticket) == 1

    # The index is partial: closed tickets of the same conversation are history, not a conflict.
    async with store.write() as session:
        session.add(_raw_ticket(conversation_id, contact_id, store, TicketStatus.CLOSED))
        session.add(_raw_ticket(conversation_id, contact_id, store, TicketStatus.CLOSED))
    assert await count(store, Ticket) == 3


@both_backends
async def test_a_bot_reply_generated_across_a_takeover_is_dropped(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    started = await new_conversation(store, first_message="Is my order late?")
    conversation_id = started.conversation.id
    generating = asyncio.Event()
    takeover_done = asyncio.Event()

    async def slow_bot() -> object:
        generating.set()
        await takeover_done.wait()  # the model was still answering when the teammate took over
        return await conversations.record_bot_reply(store, conversation_id, "Your order is on time!")

    async def teammate() -> None:
        await generating.wait()
        await escalation.escalate(store, conversation_id, source=TicketSource.TAKEOVER, actor_id=ana.id)
        takeover_done.set()

    before = await message_count(store, conversation_id)
    stored, _ = await asyncio.gather(slow_bot(), teammate())

    assert stored is None
    assert await count(store, Message, Message.conversation_id == conversation_id, Message.author == Author.BOT) == 0
    # Only the handoff message and the status line (who joined) were added by the takeover.
    assert await message_count(store, conversation_id) == before + 2


@both_backends
async def test_notes_never_become_messages(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    await add_teammate(store, "ben")
    started = await new_conversation(store, first_message="hello")
    conversation_id = started.conversation.id
    result = await escalation.escalate(store, conversation_id, source=TicketSource.TAKEOVER, actor_id=ana.id)
    messages = await count(store, Message)
    undelivered = await conversations.undelivered_messages(store, conversation_id)

    for text in ("internal only", "@ben customer is angry, refund?", "secret: card ends 4242"):
        await tickets.add_note(store, result.ticket_id, ana.id, text)

    assert await count(store, Message) == messages
    assert await conversations.undelivered_messages(store, conversation_id) == undelivered
    async with store.read() as session:
        transcript = await conversations.transcript(session, conversation_id)
    assert not any("secret" in m.text or "internal only" in m.text for m in transcript)
    assert await count(store, TimelineEvent, TimelineEvent.kind == "note") == 3


async def _crash_before_commit(session: object, now: object, *pending: object) -> list[object]:
    await session.flush()  # type: ignore[attr-defined]  # every change has reached the database...
    raise RuntimeError("the process died before the commit")  # ...and the commit never comes


@both_backends
async def test_escalate_and_allow_ai_replies_are_each_one_transaction(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inbox_tui.core import events
    from inbox_tui.core.models import Conversation, ConversationStatus

    ana = await add_teammate(store, "ana")
    started = await new_conversation(store, first_message="hello")
    conversation_id = started.conversation.id
    messages = await message_count(store, conversation_id)

    async def state() -> tuple[str, bool, int, int]:
        async with store.read() as session:
            conversation = await session.get(Conversation, conversation_id)
            assert conversation is not None
            return (
                conversation.status,
                conversation.ai_enabled,
                await count(store, Ticket, Ticket.status != TicketStatus.CLOSED),
                await count(store, TimelineEvent),
            )

    with monkeypatch.context() as patch:
        patch.setattr(events, "append", _crash_before_commit)
        with pytest.raises(RuntimeError):
            await escalation.escalate(store, conversation_id, source=TicketSource.TAKEOVER, actor_id=ana.id)
    # Nothing of the claim survived: still live, bot on, no ticket, no handoff message.
    assert await state() == (ConversationStatus.LIVE, True, 0, 0)
    assert await message_count(store, conversation_id) == messages

    result = await escalation.escalate(store, conversation_id, source=TicketSource.TAKEOVER, actor_id=ana.id)
    before = await state()
    assert before[:3] == (ConversationStatus.ESCALATED, False, 1)
    with monkeypatch.context() as patch:
        patch.setattr(events, "append", _crash_before_commit)
        with pytest.raises(RuntimeError):
            await tickets.allow_ai_replies(store, result.ticket_id, ana.id)
    # Neither half happened: the ticket is open and the bot still paused.
    assert await state() == before
    assert await conversations.record_bot_reply(store, conversation_id, "still paused") is None
