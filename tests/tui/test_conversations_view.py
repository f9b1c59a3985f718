"""The Conversations view is about live conversations: idle ones leave it (and come back
with the customer's next message), and customers of the same name are told apart."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from textual.app import App, ComposeResult

from inbox_tui.core.conversations import record_customer_message
from inbox_tui.core.records import ConversationRow, TicketRow
from inbox_tui.tui.widgets.inbox_rows import conversation_key, conversation_spec, ticket_spec
from inbox_tui.tui.widgets.row_list import RowList
from tests.tui.conftest import Inbox, wait_until
from tests.tui.test_app_keys import running

AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def test_rows_of_the_same_name_are_told_apart_and_never_empty() -> None:
    spec = conversation_spec(lambda: AT)
    first = ConversationRow(1, "p1", "Marco Rossi", "web", "it", "live", True, "", 0, AT, 11, "marco@shop.it")
    second = replace(first, id=2, public_id="p2", contact_id=12, customer_email=None, preview="ciao")
    for width in (40, 60, 90):
        one, two = spec.render(first, width, True).plain, spec.render(second, width, True).plain
        assert one != two and "Marco" in one and "Marco" in two, width
        assert "marco" in one.replace("Marco", "") and "c12" in two
        assert "(no messages yet)" in one
        assert len(one) == len(two) == width
        # An email's name too long for the cell gives way to the id: a cut tag might tell no one apart.
        long = spec.render(replace(first, customer_email="marco.rossi.1987@shop.it"), width, True).plain
        assert "c11" in long and "marco.r" not in long
        # Alone in the list, a name needs no tag.
        alone = spec.render(first, width, False).plain
        assert "marco" not in alone.replace("Marco", "") and len(alone) == width


def conversation(row_id: int, name: str, contact_id: int, email: str | None = None) -> ConversationRow:
    return ConversationRow(row_id, f"p{row_id}", name, "web", "it", "live", True, "hi", 1, AT, contact_id, email)


def ticket(row_id: int, requester: str, contact_id: int) -> TicketRow:
    return TicketRow(row_id, "Order late", "ready", requester, "web", "on_you", None, AT, AT, row_id, contact_id, "x")


class Lists(App[None]):
    def compose(self) -> ComposeResult:
        yield RowList(conversation_spec(lambda: AT), id="conversations")
        yield RowList(ticket_spec(lambda: AT), id="tickets")


async def test_a_tag_shows_only_while_two_customers_of_one_name_are_in_the_list() -> None:
    app = Lists()
    async with app.run_test(size=(100, 20)):
        rows = app.query_one("#conversations", RowList)
        marco = conversation(1, "Marco Rossi", 11, "marco.r@shop.it")
        rows.replace_all([marco, conversation(2, "Ana Lima", 12, "ana@x.pt")])
        assert not rows.has_namesake(marco)
        # The same customer in a second conversation is no namesake of theirs.
        rows.upsert([conversation(3, "Marco Rossi", 11, "marco.r@shop.it")])
        assert not rows.has_namesake(marco)
        # Another Marco Rossi (spaced and cased differently) arrives live: both are tagged.
        other = conversation(4, " marco  ROSSI", 13)
        rows.upsert([other])
        assert rows.has_namesake(marco) and rows.has_namesake(other)
        assert not rows.has_namesake(conversation(2, "Ana Lima", 12))
        lines = [rows.render_line(y).text for y in range(rows.row_count)]
        assert sum("marco.r" in line for line in lines) == 2 and sum("c13" in line for line in lines) == 1
        assert not any("ana@" in line or " ana " in line for line in lines)
        # He leaves: the tags go with him.
        rows.remove_rows([conversation_key(other)])
        assert not rows.has_namesake(marco)
        assert not any("marco.r" in rows.render_line(y).text for y in range(rows.row_count))
        # A row renamed to another name stops counting under the old one.
        rows.upsert([other, replace(conversation(3, "Marco Rossi", 11), customer_name="Marcus")])
        assert rows.has_namesake(marco)
        rows.upsert([replace(other, customer_name="Someone Else")])
        assert not rows.has_namesake(marco)

        tickets = app.query_one("#tickets", RowList)
        first, second = ticket(1, "Sam Lee", 21), ticket(2, "Sam Lee", 22)
        tickets.replace_all([first, second, ticket(3, "Sam Lee", 21), ticket(4, "Priya Shah", 23)])
        assert tickets.has_namesake(first) and tickets.has_namesake(second)
        lines = [tickets.render_line(y).text for y in range(tickets.row_count)]
        assert sum("c21" in line for line in lines) == 2 and sum("c22" in line for line in lines) == 1
        assert not any("c23" in line for line in lines)


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
