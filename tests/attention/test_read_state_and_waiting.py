"""Per-teammate read state in the database, and how long a customer has waited."""

from __future__ import annotations

from inbox_tui.core import attention
from inbox_tui.core.attention import SortOrder, sort_key
from inbox_tui.core.conversations import record_customer_message
from inbox_tui.core.escalation import escalate
from inbox_tui.core.models import TicketSource
from inbox_tui.core.read_state import mark_read, mark_ticket_read
from inbox_tui.core.store import Store
from inbox_tui.core.tickets import add_note, send_agent_reply
from inbox_tui.core.views import View
from tests.conftest import FixedClock, both_backends
from tests.core.helpers import add_teammate, new_conversation


async def ticket_rows(store: Store, view: View, agent_id: int) -> dict[int, object]:
    async with store.read() as session:
        return {row.id: row for row in await attention.page(session, view, agent_id)}  # type: ignore[union-attr]


async def unread_by_view(store: Store, agent_id: int) -> dict[View, int]:
    async with store.read() as session:
        return await attention.unread_view_counts(session, agent_id)


@both_backends
async def test_each_teammate_has_their_own_read_state_which_survives_a_new_store(database_url: str) -> None:
    store = Store(database_url)
    try:
        ana = await add_teammate(store, "ana")
        ben = await add_teammate(store, "ben")
        started = await new_conversation(store, first_message="hello")
        ticket = await escalate(store, started.conversation.id, source=TicketSource.TAKEOVER, actor_id=ana.id)
        await record_customer_message(store, started.conversation.id, "are you there?")
        rows = await ticket_rows(store, View.ALL_OPEN, ana.id)
        assert rows[ticket.ticket_id].unread == 2  # type: ignore[attr-defined]
        await mark_ticket_read(store, ana.id, ticket.ticket_id)
        # My own reply never counts as unread for me; Ben has not read anything.
        await send_agent_reply(store, ticket.ticket_id, ana.id, "I am here")
        assert (await ticket_rows(store, View.ALL_OPEN, ana.id))[ticket.ticket_id].unread == 0  # type: ignore[attr-defined]
        assert (await ticket_rows(store, View.ALL_OPEN, ben.id))[ticket.ticket_id].unread == 3  # type: ignore[attr-defined]
    finally:
        await store.close()
    # Another process (a restart, another node): the same state, from the database.
    store = Store(database_url)
    try:
        assert (await ticket_rows(store, View.ALL_OPEN, ana.id))[ticket.ticket_id].unread == 0  # type: ignore[attr-defined]
        assert (await unread_by_view(store, ana.id))[View.ON_YOU] == 0
        assert (await unread_by_view(store, ben.id))[View.ALL_OPEN] == 1
        await record_customer_message(store, started.conversation.id, "thanks!")
        assert (await ticket_rows(store, View.ON_YOU, ana.id))[ticket.ticket_id].unread == 1  # type: ignore[attr-defined]
        assert (await unread_by_view(store, ana.id))[View.ON_YOU] == 1
    finally:
        await store.close()


@both_backends
async def test_the_read_mark_only_moves_forward(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    started = await new_conversation(store, first_message="one")
    await record_customer_message(store, started.conversation.id, "two")
    latest = await mark_read(store, ana.id, started.conversation.id)
    assert await mark_read(store, ana.id, started.conversation.id, up_to_message_id=1) == latest


@both_backends
async def test_mentions_count_only_unread_mentions(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    ben = await add_teammate(store, "ben")
    started = await new_conversation(store, first_message="hello")
    ticket = await escalate(store, started.conversation.id, source=TicketSource.TAKEOVER, actor_id=ana.id)
    await add_note(store, ticket.ticket_id, ana.id, "@ben can you look?")
    assert (await unread_by_view(store, ben.id))[View.MENTIONS] == 1
    assert (await unread_by_view(store, ana.id))[View.MENTIONS] == 0  # my own note mentions nobody of mine
    await mark_ticket_read(store, ben.id, ticket.ticket_id)
    assert (await unread_by_view(store, ben.id))[View.MENTIONS] == 0


@both_backends
async def test_waiting_is_the_customer_writing_last_since_the_first_unanswered_message(database_url: str) -> None:
    clock = FixedClock()
    store = Store(database_url, clock=clock)
    try:
        ana = await add_teammate(store, "ana")
        started = await new_conversation(store, first_message="hello")
        clock.advance(minutes=2)
        ticket = await escalate(store, started.conversation.id, source=TicketSource.TAKEOVER, actor_id=ana.id)
        opened = clock.now
        # The customer's message came before the ticket: they wait from the ticket on.
        row = (await ticket_rows(store, View.ALL_OPEN, ana.id))[ticket.ticket_id]
        assert row.waiting_since == opened  # type: ignore[attr-defined]
        clock.advance(minutes=1)
        await send_agent_reply(store, ticket.ticket_id, ana.id, "Hi!")
        assert (await ticket_rows(store, View.ALL_OPEN, ana.id))[ticket.ticket_id].waiting_since is None  # type: ignore[attr-defined]
        clock.advance(minutes=1)
        asked = clock.now
        await record_customer_message(store, started.conversation.id, "Hello? anyone there?")
        clock.advance(minutes=4)
        await record_customer_message(store, started.conversation.id, "???")
        row = (await ticket_rows(store, View.ALL_OPEN, ana.id))[ticket.ticket_id]
        assert row.waiting_since == asked  # type: ignore[attr-defined]
        assert row.last_author == "customer" and row.last_preview == "???"  # type: ignore[attr-defined]
    finally:
        await store.close()


@both_backends
async def test_longest_waiting_sorts_waiting_customers_first_oldest_first(database_url: str) -> None:
    clock = FixedClock()
    store = Store(database_url, clock=clock)
    try:
        ana = await add_teammate(store, "ana")
        ids = []
        for n in range(3):
            started = await new_conversation(store, f"c{n}", first_message="help")
            clock.advance(minutes=1)
            ids.append(
                (
                    await escalate(store, started.conversation.id, source=TicketSource.TAKEOVER, actor_id=ana.id)
                ).ticket_id
            )
        clock.advance(minutes=1)
        await send_agent_reply(store, ids[0], ana.id, "answered")  # the oldest is not waiting any more
        rows = list((await ticket_rows(store, View.ALL_OPEN, ana.id)).values())
    finally:
        await store.close()
    newest = [r.id for r in sorted(rows, key=sort_key(SortOrder.NEWEST))]  # type: ignore[attr-defined]
    waiting = [r.id for r in sorted(rows, key=sort_key(SortOrder.LONGEST_WAITING))]  # type: ignore[attr-defined]
    assert newest[0] == ids[0]  # the reply made it the newest activity
    assert waiting == [ids[1], ids[2], ids[0]]


@both_backends
async def test_reading_one_conversation_leaves_the_others_unread_in_every_count(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    first = await new_conversation(store, "c1", first_message="one")
    await new_conversation(store, "c2", first_message="two")
    third = await new_conversation(store, "c3", first_message="three")
    ticket = await escalate(store, third.conversation.id, source=TicketSource.TAKEOVER, actor_id=ana.id)
    # c1 gets the newest message and is read: its mark is above every other message id.
    await record_customer_message(store, first.conversation.id, "one more")
    await mark_read(store, ana.id, first.conversation.id)
    counts = await unread_by_view(store, ana.id)
    assert counts[View.CONVERSATIONS] == 1  # c2 only: c1 is read, c3 is a ticket now
    assert counts[View.ON_YOU] == 1 and counts[View.ALL_OPEN] == 1
    await mark_ticket_read(store, ana.id, ticket.ticket_id)
    counts = await unread_by_view(store, ana.id)
    assert counts[View.CONVERSATIONS] == 1 and counts[View.ON_YOU] == 0
