"""The Conversations view is about live conversations: idle ones leave it (and come back
with the customer's next message), and customers of the same name are told apart."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from inbox_tui.core.conversations import record_customer_message
from inbox_tui.core.records import ConversationRow
from inbox_tui.tui.widgets.inbox_rows import conversation_spec
from tests.tui.conftest import Inbox, wait_until
from tests.tui.test_app_keys import running

AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def test_rows_of_the_same_name_are_told_apart_and_never_empty() -> None:
    spec = conversation_spec(lambda: AT)
    first = ConversationRow(1, "p1", "Marco Rossi", "web", "it", "live", True, "", 0, AT, 11, "marco@shop.it")
    second = replace(first, id=2, public_id="p2", contact_id=12, customer_email=None, preview="ciao")
    for width in (40, 60, 90):
        one, two = spec.render(first, width).plain, spec.render(second, width).plain
        assert one != two and "Marco" in one and "Marco" in two, width
        assert "marco" in one.replace("Marco", "") and "c12" in two
        assert "(no messages yet)" in one
        assert len(one) == len(two) == width


async def test_idle_conversations_leave_the_view_and_return_when_the_customer_writes(inbox: Inbox) -> None:
    inbox.clock.advance(minutes=31)  # every seeded bot conversation went quiet
    app = inbox.app()
    async with running(app) as pilot:
        assert app.inbox.rows.row_count == 0
        assert app.inbox.counts[app.inbox.view] == 0

        store = inbox.store()
        try:
            await record_customer_message(store, inbox.seeded.live_ids[0], "are you still there?")
        finally:
            await store.close()
        await pilot.press("1")  # the view reloads (live, the bridge brings the row)
        await wait_until(pilot, lambda: app.inbox.rows.row_count == 1, what="the conversation back")
