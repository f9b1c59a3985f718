"""Exactly one open ticket, and the loser of a takeover is shown *that* ticket: once a
conversation has a closed ticket (handed back to the bot) and a second takeover opened a
new one, a teammate or the bot who comes second is told the new ticket and who holds it,
never the closed one. Guards the open-ticket predicate in ``escalation._existing``."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from inbox_tui.core import tickets
from inbox_tui.core.escalation import escalate
from inbox_tui.core.models import Conversation, ConversationStatus, TicketSource, TicketStatus
from inbox_tui.core.store import NotFound, Store, StoreError
from tests.conftest import both_backends
from tests.core.helpers import add_teammate, new_conversation

RACERS = 4


async def _closed_then_taken_again(store: Store) -> tuple[int, int, int, int, int]:
    """A conversation whose first ticket was closed by Allow AI replies and whose second
    takeover (by Bob) holds it now: (conversation, closed ticket, open ticket, Ana, Bob)."""
    ana = await add_teammate(store, "ana")
    bob = await add_teammate(store, "bob")
    # Another customer's open ticket, older than every ticket of ours: the answer must be
    # this conversation's open ticket, not any open ticket.
    other = (await new_conversation(store, "c0", first_message="me too")).conversation.id
    await escalate(store, other, source=TicketSource.TAKEOVER, actor_id=ana.id)
    conversation_id = (await new_conversation(store, "c1", first_message="hello?")).conversation.id
    first = await escalate(store, conversation_id, source=TicketSource.TAKEOVER, actor_id=ana.id)
    await tickets.allow_ai_replies(store, first.ticket_id, ana.id)
    second = await escalate(store, conversation_id, source=TicketSource.TAKEOVER, actor_id=bob.id)
    assert second.created and second.ticket_id != first.ticket_id
    return conversation_id, first.ticket_id, second.ticket_id, ana.id, bob.id


@both_backends
async def test_a_late_takeover_is_shown_the_open_ticket_not_the_closed_one(store: Store) -> None:
    conversation_id, closed, open_ticket, ana, bob = await _closed_then_taken_again(store)
    late = await escalate(store, conversation_id, source=TicketSource.TAKEOVER, actor_id=ana)
    assert not late.created
    assert late.ticket_id == open_ticket != closed
    assert late.assignee is not None and late.assignee.id == bob
    assert (late.conversation_id, late.status) == (conversation_id, TicketStatus.ON_YOU)
    # The bot's escalation of the held conversation hears the same answer.
    bot = await escalate(store, conversation_id, source=TicketSource.ESCALATION, reason="the customer asked")
    assert (bot.created, bot.ticket_id) == (False, open_ticket)


@both_backends
async def test_racing_takeovers_after_a_close_yield_one_new_ticket_and_every_loser_sees_it(database_url: str) -> None:
    """Second round of the race (after a hand-back): each racer has its own store, as
    separate inboxes do; the losers (by the claim or by the unique index) all name the
    winner's ticket."""
    stores = [Store(database_url) for _ in range(RACERS)]
    try:
        conversation_id, closed, _open, ana, _bob = await _closed_then_taken_again(stores[0])
        await tickets.allow_ai_replies(stores[0], _open, ana)
        racers = [await add_teammate(stores[0], f"racer{n}") for n in range(RACERS)]
        results = await asyncio.gather(
            *(
                escalate(store, conversation_id, source=TicketSource.TAKEOVER, actor_id=racer.id)
                for store, racer in zip(stores, racers, strict=True)
            )
        )
    finally:
        for store in stores:
            await store.close()
    winners = [r for r in results if r.created]
    assert len(winners) == 1
    assert {r.ticket_id for r in results} == {winners[0].ticket_id}
    assert winners[0].ticket_id not in (closed, _open)
    assert {r.assignee.id for r in results if r.assignee} == {winners[0].assignee.id}  # type: ignore[union-attr]


@both_backends
async def test_escalating_what_cannot_be_escalated_says_why(store: Store) -> None:
    """No open ticket to show: an unknown conversation is not found, an ended one says
    it cannot be escalated (and is not reported as missing)."""
    ana = await add_teammate(store, "ana")
    with pytest.raises(NotFound, match="no conversation 4242"):
        await escalate(store, 4242, source=TicketSource.TAKEOVER, actor_id=ana.id)
    ended = (await new_conversation(store, "c1", first_message="bye")).conversation.id
    async with store.write() as session:
        await session.execute(
            update(Conversation).where(Conversation.id == ended).values(status=ConversationStatus.ENDED)
        )
    with pytest.raises(StoreError, match=f"conversation {ended} is ended and cannot be escalated") as refused:
        await escalate(store, ended, source=TicketSource.TAKEOVER, actor_id=ana.id)
    assert not isinstance(refused.value, NotFound)
