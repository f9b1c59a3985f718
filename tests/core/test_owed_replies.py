"""What the bot owes is stored with the customer's message and settled by the answer,
the escalation, a takeover or a hand-back; answers from a past epoch are never stored."""

from __future__ import annotations

from datetime import timedelta

import pytest

from inbox_tui.core import conversations, owed_replies, tickets
from inbox_tui.core.conversations import OwedWork
from inbox_tui.core.escalation import StaleEscalation, escalate
from inbox_tui.core.models import Conversation, ConversationStatus, TicketSource
from inbox_tui.core.store import Store, StoreError
from tests.conftest import FixedClock, both_backends
from tests.core.helpers import add_teammate, new_conversation

LEASE = timedelta(seconds=10)


async def _epoch(store: Store, conversation_id: int) -> int:
    async with store.read() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        return conversation.epoch


@both_backends
async def test_a_message_in_bot_mode_is_owed_until_answered_once(store: Store) -> None:
    cid = (await new_conversation(store)).conversation.id
    stored = await conversations.record_customer_message(store, cid, "Hello?", client_id="m1")
    assert await owed_replies.pending(store) == [stored.message.id]
    resent = await conversations.record_customer_message(store, cid, "Hello?", client_id="m1")
    assert not resent.created and await owed_replies.pending(store) == [stored.message.id]
    work = OwedWork(cid, stored.message.id)
    assert await conversations.record_bot_reply(store, cid, "Hi!", answering=work) is not None
    assert await owed_replies.pending(store) == []
    # The same message answered again (a second worker): nothing is stored.
    assert await conversations.record_bot_reply(store, cid, "Hi again!", answering=work) is None


@both_backends
async def test_takeover_and_hand_back_start_new_epochs_and_drop_what_was_owed(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    cid = (await new_conversation(store)).conversation.id
    first = await conversations.record_customer_message(store, cid, "Where is my order?")
    assert await _epoch(store, cid) == 0
    takeover = await escalate(store, cid, source=TicketSource.TAKEOVER, actor_id=ana.id)
    assert await _epoch(store, cid) == 1
    assert await owed_replies.pending(store) == []
    # In human mode nothing is owed.
    await conversations.record_customer_message(store, cid, "Hello?")
    assert await owed_replies.pending(store) == []
    await tickets.allow_ai_replies(store, takeover.ticket_id, ana.id)
    assert await _epoch(store, cid) == 2
    # The answer made before the takeover is stale, as text and as an escalation.
    stale = OwedWork(cid, first.message.id)
    assert await conversations.record_bot_reply(store, cid, "late", answering=stale) is None
    with pytest.raises(StaleEscalation):
        await escalate(store, cid, source=TicketSource.ESCALATION, reason="late", answering=stale)
    # A message of the new epoch is answered.
    fresh = await conversations.record_customer_message(store, cid, "Still there?")
    assert await conversations.record_bot_reply(store, cid, "Yes!", answering=OwedWork(cid, fresh.message.id))


@both_backends
async def test_an_owed_reply_is_claimed_once_its_lease_ran_out(database_url: str) -> None:
    clock = FixedClock()
    store = Store(database_url, clock=clock)
    try:
        cid = (await new_conversation(store)).conversation.id
        stored = await conversations.record_customer_message(store, cid, "Hello?")
        # The node that stored it holds it for one lease from the message.
        assert await owed_replies.claim_expired(store, LEASE) == []
        clock.advance(seconds=LEASE.total_seconds())
        claimed = await owed_replies.claim_expired(store, LEASE)
        assert [w.message_id for w in claimed] == [stored.message.id]
        assert await owed_replies.claim_expired(store, LEASE) == []  # not twice
        clock.advance(seconds=LEASE.total_seconds() / 2)
        await owed_replies.renew(store, [stored.message.id], LEASE)
        clock.advance(seconds=LEASE.total_seconds() * 0.9)
        assert await owed_replies.claim_expired(store, LEASE) == []  # renewed
        await owed_replies.release(store, [stored.message.id])
        assert [w.message_id for w in await owed_replies.claim_expired(store, LEASE)] == [stored.message.id]
    finally:
        await store.close()


@both_backends
async def test_a_stale_escalation_settles_its_owed_row(store: Store) -> None:
    """An owed row left from a past epoch (as if its settling had been lost) is settled by
    the stale answer that finds it, and escalates nothing."""
    from sqlalchemy import update

    cid = (await new_conversation(store)).conversation.id
    stored = await conversations.record_customer_message(store, cid, "Hello?")
    async with store.write() as session:
        await session.execute(update(Conversation).where(Conversation.id == cid).values(epoch=Conversation.epoch + 1))
    with pytest.raises(StaleEscalation):
        await escalate(
            store, cid, source=TicketSource.ESCALATION, reason="late", answering=OwedWork(cid, stored.message.id)
        )
    assert await owed_replies.pending(store) == []
    async with store.read() as session:
        conversation = await session.get(Conversation, cid)
        assert conversation is not None and conversation.status == "live"


@both_backends
async def test_an_answer_that_no_longer_stands_stores_nothing_and_leaves_the_row_alone(store: Store) -> None:
    """The owed row still there but the AI paused since (on PostgreSQL the answer is one
    statement: its message and list-field steps must not run): settled, nothing stored,
    the conversation's list fields as they were."""
    cid = (await new_conversation(store)).conversation.id
    stored = await conversations.record_customer_message(store, cid, "Hello?", client_id="m1")
    async with store.write() as session:
        conversation = await session.get(Conversation, cid)
        assert conversation is not None
        conversation.ai_enabled = False
    async with store.read() as session:
        before = await session.get(Conversation, cid)
        assert before is not None
        count, preview, author = before.message_count, before.last_message_preview, before.last_message_author
    work = OwedWork(cid, stored.message.id)
    assert await conversations.record_bot_reply(store, cid, "Too late", answering=work) is None
    assert await owed_replies.pending(store) == []  # settled for good
    async with store.read() as session:
        after = await session.get(Conversation, cid)
        assert after is not None
        assert (after.message_count, after.last_message_preview, after.last_message_author) == (count, preview, author)
        texts = [m.text for m in await conversations.transcript(session, cid)]
    assert texts == ["Hello?"]


@both_backends
async def test_a_message_to_an_ended_conversation_is_refused_and_nothing_is_written(store: Store) -> None:
    """On PostgreSQL the context read and the writes are one statement: an ended
    conversation must stop the message, the owed row and the list fields alike."""
    cid = (await new_conversation(store)).conversation.id
    await conversations.record_customer_message(store, cid, "Hello?", client_id="m1")
    async with store.write() as session:
        conversation = await session.get(Conversation, cid)
        assert conversation is not None
        conversation.status = ConversationStatus.ENDED
        count, preview = conversation.message_count, conversation.last_message_preview
    pending_before = await owed_replies.pending(store)
    with pytest.raises(StoreError, match="ended"):
        await conversations.record_customer_message(store, cid, "Anyone?", client_id="m2")
    assert await owed_replies.pending(store) == pending_before
    async with store.read() as session:
        after = await session.get(Conversation, cid)
        assert after is not None
        assert (after.message_count, after.last_message_preview) == (count, preview)
        assert [m.text for m in await conversations.transcript(session, cid)] == ["Hello?"]
