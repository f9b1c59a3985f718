"""A customer waiting past the threshold on my ticket: found, and on the timeline once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from inbox_tui.core.alerts import WAITED_CODE, overdue_tickets, record_wait
from inbox_tui.core.conversations import record_customer_message
from inbox_tui.core.escalation import escalate
from inbox_tui.core.models import TicketSource
from inbox_tui.core.store import Store
from inbox_tui.core.tickets import send_agent_reply
from tests.conftest import FixedClock, both_backends
from tests.core.helpers import add_teammate, new_conversation, timeline_codes

THRESHOLD = timedelta(minutes=5)


@both_backends
async def test_an_unanswered_customer_past_the_threshold_is_found_and_written_once(database_url: str) -> None:
    clock = FixedClock()
    store = Store(database_url, clock=clock)
    try:
        ana = await add_teammate(store, "ana")
        started = await new_conversation(store, first_message="hello")
        ticket = await escalate(store, started.conversation.id, source=TicketSource.TAKEOVER, actor_id=ana.id)
        await send_agent_reply(store, ticket.ticket_id, ana.id, "Hi, how can I help?")
        clock.advance(minutes=1)
        asked = clock.now
        await record_customer_message(store, started.conversation.id, "Hello? anyone there?")
        clock.advance(minutes=4)
        async with store.read() as session:
            assert await overdue_tickets(session, ana.id, THRESHOLD, clock.now) == []
        clock.advance(minutes=2)
        async with store.read() as session:
            assert await overdue_tickets(session, ana.id, THRESHOLD, clock.now) == [(ticket.ticket_id, asked)]
        # Two inboxes of the team find it at once: the timeline says it once.
        second = Store(database_url, clock=clock)
        try:
            wrote = await asyncio.gather(
                record_wait(store, ticket.ticket_id, asked, THRESHOLD),
                record_wait(second, ticket.ticket_id, asked, THRESHOLD),
            )
        finally:
            await second.close()
        assert sorted(wrote) == [False, True]
        assert (await timeline_codes(store, ticket.ticket_id)).count(WAITED_CODE) == 1
        # An answer ends the wait.
        await send_agent_reply(store, ticket.ticket_id, ana.id, "Sorry, here now.")
        async with store.read() as session:
            assert await overdue_tickets(session, ana.id, THRESHOLD, clock.now) == []
    finally:
        await store.close()
