"""The Conversations view keeps live conversations active within the idle time; a
customer's next message brings theirs back. Search still finds the idle ones."""

from __future__ import annotations

from datetime import timedelta

from inbox_tui.core import conversations, search, views
from inbox_tui.core.store import Store
from inbox_tui.core.views import View
from tests.conftest import FixedClock, both_backends
from tests.core.helpers import new_conversation


@both_backends
async def test_idle_conversations_leave_the_live_list_and_come_back(database_url: str) -> None:
    clock = FixedClock()
    store = Store(database_url, clock=clock)
    try:
        gone = await new_conversation(store, "c-gone", name="Marco Rossi", first_message="parcel question")
        clock.advance(minutes=20)
        here = await new_conversation(store, "c-here", name="Marco Rossi", first_message="hello")
        clock.advance(minutes=15)  # gone: idle 35 minutes; here: 15

        since = clock.now - timedelta(minutes=30)
        async with store.read() as session:
            rows = await views.page(session, View.CONVERSATIONS, active_since=since)
            counts = await views.counts(session, None, active_since=since)
            everything = await views.conversations(session)
            found = await search.search(session, "parcel")
        assert [row.id for row in rows] == [here.conversation.id]
        assert counts[View.CONVERSATIONS] == 1
        assert {row.id for row in everything} == {gone.conversation.id, here.conversation.id}
        assert [hit.conversation_id for hit in found] == [gone.conversation.id]
        # Same name, told apart by their email.
        assert {row.customer_email for row in everything} == {"c-gone@example.com", "c-here@example.com"}

        await conversations.record_customer_message(store, gone.conversation.id, "still there?")

        async with store.read() as session:
            rows = await views.page(session, View.CONVERSATIONS, active_since=clock.now - timedelta(minutes=30))
        assert [row.id for row in rows] == [gone.conversation.id, here.conversation.id]
    finally:
        await store.close()
