"""Every key and action of the inbox, driven with the Pilot against a real SQLite store."""

from __future__ import annotations

from contextlib import asynccontextmanager

import pytest
from sqlalchemy import select

from inbox_tui.core import views
from inbox_tui.core.escalation import escalate
from inbox_tui.core.models import (
    Agent,
    Author,
    Availability,
    Conversation,
    ConversationStatus,
    Mention,
    Message,
    Ticket,
    TicketSource,
    TicketStatus,
    TimelineEvent,
)
from inbox_tui.core.views import View
from inbox_tui.tui.screens.confirm import ConfirmScreen
from inbox_tui.tui.screens.help import HelpScreen
from inbox_tui.tui.screens.reassign import ReassignScreen
from inbox_tui.tui.targets import ConversationTarget
from inbox_tui.tui.widgets.composer import NOTE, REPLY, Composer
from inbox_tui.tui.widgets.detail import TicketPane
from inbox_tui.tui.widgets.inbox_rows import ticket_key
from inbox_tui.tui.widgets.row_list import RowList
from inbox_tui.tui.widgets.sidebar import Sidebar
from tests.tui.conftest import Inbox, detail_target, notifications, screen_text, shown_ticket, thread_text, wait_until


async def started(app, pilot):  # type: ignore[no-untyped-def]
    await app.started_up.wait()
    await pilot.pause()
    return app


async def open_ana_ticket(app, pilot, inbox: Inbox) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("2")
    await wait_until(
        pilot,
        lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == inbox.seeded.ticket_on_ana,
        what="ticket on ana",
    )


@asynccontextmanager
async def running(app, *, size=(120, 40), ticket_of: Inbox | None = None):  # type: ignore[no-untyped-def]
    """The app under Pilot, started; with ``ticket_of``, showing the seeded ticket on ana."""
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)
        if ticket_of is not None:
            await open_ana_ticket(app, pilot, ticket_of)
        yield pilot


async def test_startup_lists_live_conversations_newest_first_with_counts(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app):
        rows = app.inbox.query_one("#rows", RowList)
        assert rows.row_count == 3
        # Priya wrote last; Jonas first (seed order), and neither Maria nor Sam (tickets) is listed.
        names = [rows.record(k).customer_name for k in rows.keys]
        assert names == ["Priya Shah", "Claire Martin", "Jonas Weber"]
        counts = app.inbox.query_one(Sidebar).counts
        assert counts[View.CONVERSATIONS] == 3 and counts[View.ON_YOU] == 1
        assert counts[View.UNASSIGNED] == 1 and counts[View.CLOSED] == 1
        text = screen_text(app)
        assert "Ana Lima (@ana)" in text and "Conversations" in text
        assert "Can I change my plan mid-month?" in text  # the detail of the first row


async def test_j_k_and_arrows_move_the_selection_and_the_detail_follows(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        rows = app.inbox.query_one("#rows", RowList)
        first, second, third = rows.keys
        await pilot.press("j")
        assert rows.cursor_key == second
        await pilot.press("down")
        assert rows.cursor_key == third
        await pilot.press("k", "up")
        assert rows.cursor_key == first
        await pilot.press("j")
        await wait_until(pilot, lambda: detail_target(app) == ConversationTarget(rows.record(second).id))
        await wait_until(pilot, lambda: "Bonjour, je voudrais un remboursement." in screen_text(app))


async def test_tab_moves_between_panes(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        assert app.focused.id == "rows"
        await pilot.press("tab")
        assert app.focused.id == "conversation-thread"
        await pilot.press("shift+tab")
        assert app.focused.id == "rows"
        await pilot.press("shift+tab")
        assert app.focused.id == "sidebar"


async def test_number_keys_switch_views(inbox: Inbox) -> None:
    app = inbox.app()
    s = inbox.seeded
    async with running(app) as pilot:
        rows = app.inbox.query_one("#rows", RowList)
        expected = {
            "2": (View.ON_YOU, [ticket_key(s.ticket_on_ana)]),
            "3": (View.UNASSIGNED, [ticket_key(s.unassigned_ticket)]),
            "4": (View.ALL_OPEN, sorted([ticket_key(s.ticket_on_ana), ticket_key(s.unassigned_ticket)])),
            "5": (View.MENTIONS, []),
            "6": (View.CLOSED, [ticket_key(s.closed_ticket)]),
            "1": (View.CONVERSATIONS, [conversation_key_for(i) for i in s.live_ids]),
        }
        for key, (view, keys) in expected.items():
            await pilot.press(key)
            await wait_until(
                pilot, lambda: app.inbox.view is view and sorted(rows.keys) == sorted(keys), what=f"view {view}"
            )
            assert app.inbox.query_one(Sidebar).highlighted == int(key) - 1


def conversation_key_for(conversation_id: int) -> str:
    return f"c{conversation_id}"


async def test_mentions_view_lists_the_ticket_a_teammate_was_mentioned_on(inbox: Inbox) -> None:
    app = inbox.app("bob")
    async with running(app) as pilot:
        await pilot.press("5")
        rows = app.inbox.query_one("#rows", RowList)
        await wait_until(pilot, lambda: rows.keys == [ticket_key(inbox.seeded.ticket_on_ana)])
        await wait_until(pilot, lambda: "@bob please look at bounces" in thread_text(app))


async def test_slash_filters_the_list_and_escape_clears_it(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        rows = app.inbox.query_one("#rows", RowList)
        await pilot.press("slash")
        await pilot.press(*"claire")
        assert [rows.record(k).customer_name for k in rows.keys] == ["Claire Martin"]
        await pilot.press("enter")
        assert app.focused is rows
        await pilot.press("slash", "escape")
        assert rows.row_count == 3
        assert app.focused is rows
        box = app.inbox.query_one("#filter")
        assert not box.display
        # Filtered, back in the list: Esc there closes the filter too.
        await pilot.press("slash", *"jonas", "enter")
        assert box.display and rows.row_count == 1
        await pilot.press("escape")
        assert not box.display and rows.row_count == 3 and app.focused is rows


async def test_the_filter_sits_inside_the_list_border_and_keeps_its_title_and_width(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        pane = app.inbox.query_one("#list-column")
        rows = app.inbox.query_one("#rows", RowList)
        width_before = rows.region.width
        await pilot.press("slash")
        box = app.inbox.query_one("#filter")
        assert box.region.width == rows.region.width == width_before
        assert pane.region.y < box.region.y < rows.region.y  # under the titled border, above the rows
        assert "Conversations · 3" in screen_text(app)
        assert "Filter · Enter: list · Esc: clear" in screen_text(app)  # the placeholder is not cut


async def test_tab_from_the_thread_reaches_the_composer_before_the_buttons(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app, ticket_of=inbox) as pilot:
        app.inbox.query_one("#ticket-thread").focus()
        await pilot.pause()
        await pilot.press("tab")
        assert app.focused is app.inbox.query_one(Composer).input


async def test_at_60x20_the_ticket_shows_transcript_lines_and_every_view(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app, size=(60, 20), ticket_of=inbox):
        thread = app.inbox.query_one("#ticket-thread")
        assert thread.scrollable_content_region.height >= 2
        strip = screen_text(app).splitlines()[0]
        for number in "12345678":  # no view is dropped (at this width, numbers and counts)
            assert f"{number} " in strip or f"{number}:" in strip


async def test_the_help_screen_rows_never_wrap_at_120_columns(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        text = app.screen.query_one("#help-text")
        assert text.region.height == len(str(app.screen.content).splitlines())


async def test_t_takes_over_opens_the_ticket_with_ai_paused_and_then_the_summary(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        rows = app.inbox.query_one("#rows", RowList)
        conversation_id = int(rows.cursor_key[1:])
        await pilot.press("t")
        await wait_until(pilot, lambda: shown_ticket(app) is not None, what="the ticket to open")
        ticket_id = detail_target(app).ticket_id
        detail = shown_ticket(app)
        assert detail.ticket.assignee.handle == "ana"
        assert detail.conversation.ai_enabled is False
        await wait_until(
            pilot,
            lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.summary_state != "pending",
            what="the summary",
        )
        assert "Summary" in screen_text(app)
        assert app.inbox.view is View.ON_YOU and rows.cursor_key == ticket_key(ticket_id)
        store = inbox.store()
        try:
            async with store.read() as session:
                conversation = await session.get(Conversation, conversation_id)
                assert conversation.status == ConversationStatus.ESCALATED and not conversation.ai_enabled
                ticket = await session.get(Ticket, ticket_id)
                assert ticket.source == TicketSource.TAKEOVER and ticket.conversation_id == conversation_id
        finally:
            await store.close()


async def test_take_over_button_works_with_the_mouse(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        await wait_until(pilot, lambda: app.inbox.query_one("#conversation-pane").display)
        await pilot.click("#take-over")
        await wait_until(pilot, lambda: shown_ticket(app) is not None, what="the ticket")


async def test_take_over_lost_race_says_who_and_opens_their_ticket(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        conversation_id = int(app.inbox.query_one("#rows", RowList).cursor_key[1:])
        store = inbox.store()
        try:  # Bob got there first, from another client.
            won = await escalate(store, conversation_id, source=TicketSource.TAKEOVER, actor_id=inbox.seeded.bob_id)
        finally:
            await store.close()
        await pilot.press("t")
        await wait_until(pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == won.ticket_id)
        assert any("Bob Stone (@bob)" in n for n in notifications(app))
        assert app.inbox.view is View.ALL_OPEN


async def test_r_replies_to_the_customer_with_ctrl_j(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app, ticket_of=inbox) as pilot:
        await pilot.press("r")
        composer = app.inbox.query_one(Composer)
        assert composer.mode == REPLY and app.focused is composer.input
        await pilot.press(*"Try the link now", "ctrl+j")
        await wait_until(pilot, lambda: "Try the link now" in thread_text(app) and composer.text == "")
        store = inbox.store()
        try:
            async with store.read() as session:
                texts = list(await session.scalars(select(Message.text).where(Message.author == Author.AGENT)))
                ticket = await session.get(Ticket, inbox.seeded.ticket_on_ana)
            assert "Try the link now" in texts
            assert ticket.status == TicketStatus.WAITING_ON_CUSTOMER
        finally:
            await store.close()


async def test_n_writes_an_internal_note_with_mention_completion(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app, ticket_of=inbox) as pilot:
        await pilot.press("n")
        composer = app.inbox.query_one(Composer)
        assert composer.mode == NOTE and composer.has_class("-note")
        assert "Internal note · not sent to the customer" in screen_text(app)
        await pilot.press(*"ask @b")
        assert composer.completions == ["bob"]
        await pilot.press("tab")
        assert composer.text == "ask @bob "
        assert app.focused is composer.input  # Tab completed instead of moving focus
        await pilot.press(*"about it", "ctrl+j")
        await wait_until(pilot, lambda: composer.text == "" and any("notified @bob" in n for n in notifications(app)))
        store = inbox.store()
        try:
            async with store.read() as session:
                note = await session.scalar(select(TimelineEvent).where(TimelineEvent.text == "ask @bob about it"))
                assert note is not None and note.kind == "note"
                mentions = list(await session.scalars(select(Mention).where(Mention.note_id == note.id)))
                assert [m.agent_id for m in mentions] == [inbox.seeded.bob_id]
                # An internal note is never a message.
                assert await session.scalar(select(Message).where(Message.text.like("ask @bob%"))) is None
        finally:
            await store.close()


async def test_ctrl_n_switches_reply_and_note(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app, ticket_of=inbox) as pilot:
        await pilot.press("r")
        composer = app.inbox.query_one(Composer)
        await pilot.press("ctrl+n")
        assert composer.mode == NOTE
        await pilot.press("ctrl+n")
        assert composer.mode == REPLY


async def test_a_allows_ai_replies_and_closes_the_ticket(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app, ticket_of=inbox) as pilot:
        conversation_id = shown_ticket(app).conversation.id
        await pilot.press("a")
        await wait_until(pilot, lambda: any("AI replies allowed again" in n for n in notifications(app)))
        # Nothing is left on Ana: the view says so instead of keeping the closed ticket.
        await wait_until(pilot, lambda: detail_target(app) is None and "Nothing on you." in screen_text(app))
        await pilot.press("6")
        await wait_until(
            pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == inbox.seeded.ticket_on_ana
        )
        assert shown_ticket(app).ticket.status == TicketStatus.CLOSED
        assert shown_ticket(app).conversation.ai_enabled
        assert "AI replies allowed again" in thread_text(app)
        await pilot.press("1")
        rows = app.inbox.query_one("#rows", RowList)
        # The conversation is back among the live ones, on the bot.
        await wait_until(pilot, lambda: app.inbox.view is View.CONVERSATIONS and rows.row_count == 4)
        assert conversation_key_for(conversation_id) in rows.keys


async def test_shift_r_reassigns_from_the_picker_with_load_and_availability(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        await pilot.press("4")  # All open: the ticket stays listed once it is Bob's
        rows = app.inbox.query_one("#rows", RowList)
        await wait_until(pilot, lambda: rows.row_count == 2)
        rows.select_key(ticket_key(inbox.seeded.ticket_on_ana))
        await wait_until(
            pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == inbox.seeded.ticket_on_ana
        )
        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, ReassignScreen))
        text = screen_text(app)
        assert "@bob" in text and "available" in text and "1/5 open" in text and "(current)" in text
        await pilot.press("down", "enter")  # ana is first (by handle), bob second
        # Bob has no inbox open (offline): asked first, and the timeline says so.
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Bob Stone (@bob) is offline" in app.screen.question
        await pilot.press("y")
        await wait_until(
            pilot,
            lambda: (
                shown_ticket(app) is not None
                and shown_ticket(app).ticket.assignee is not None
                and shown_ticket(app).ticket.assignee.handle == "bob"
            ),
        )
        assert "Reassigned to Bob Stone (@bob) by Ana Lima (@ana)." in thread_text(app)
        assert "Assigned although Bob Stone (@bob) is offline." in thread_text(app)


async def test_p_opens_a_previous_ticket_of_the_requester(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        await pilot.press("3")  # Maria's new ticket is unassigned; her old one is closed
        await wait_until(
            pilot,
            lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == inbox.seeded.unassigned_ticket,
        )
        await pilot.press("p")
        assert app.focused.id == "previous-tickets"
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == inbox.seeded.closed_ticket
        )
        assert shown_ticket(app).ticket.status == TicketStatus.CLOSED


async def test_v_toggles_availability(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        assert "● available" in screen_text(app)
        await pilot.press("v")
        await wait_until(pilot, lambda: "● away" in screen_text(app))
        store = inbox.store()
        try:
            async with store.read() as session:
                agent = await session.get(Agent, inbox.seeded.ana_id)
                assert agent.availability == Availability.AWAY
        finally:
            await store.close()
        await pilot.press("v")
        await wait_until(pilot, lambda: "● available" in screen_text(app))


async def test_question_mark_lists_every_key(inbox: Inbox) -> None:
    app = inbox.app(keymap={"ticket.take_over": "T"})
    async with running(app) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.content)
        for binding in app.all_bindings():
            assert binding.description in text
            if binding.id:
                assert binding.id in text
        assert "T " in text  # the remapped key is shown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_keymap_from_settings_remaps_a_binding(inbox: Inbox) -> None:
    app = inbox.app(keymap={"ticket.take_over": "T"})
    async with running(app) as pilot:
        await pilot.press("t")
        await pilot.pause(0.2)
        assert shown_ticket(app) is None
        await pilot.press("T")
        await wait_until(pilot, lambda: shown_ticket(app) is not None)


async def test_command_palette_offers_every_action_and_runs_one(inbox: Inbox) -> None:
    from inbox_tui.tui.commands import ACTIONS, InboxCommands

    app = inbox.app()
    async with running(app) as pilot:
        provider = InboxCommands(app.screen)
        titles = [hit.text async for hit in provider.discover()]
        # On a live conversation: take it over, but no ticket actions.
        assert "Take over the selected conversation" in titles
        assert "Reply to the customer" not in titles and "Reassign the ticket" not in titles
        await pilot.press("4")
        await wait_until(pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).previous_tickets)
        titles = [hit.text async for hit in provider.discover()]
        only_elsewhere = ("Take over the selected conversation", "Reopen the closed ticket")
        for title, _action, _help in ACTIONS:
            if title not in only_elsewhere:
                assert title in titles
        assert "Theme: inbox-high-contrast" in titles and "View: Closed" in titles
        await pilot.press("ctrl+p")
        await pilot.press(*"View: Closed")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.inbox.view is View.CLOSED)


async def test_q_quits(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


def footer_keys(app) -> set[str]:  # type: ignore[no-untyped-def]
    """The actions the footer offers now (what applies to what is shown)."""
    return {b.binding.action for b in app.screen.active_bindings.values() if b.binding.show and b.enabled}


async def test_keys_that_need_a_ticket_are_left_out_until_one_is_shown(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        keys = footer_keys(app)
        assert "take_over" in keys  # a live conversation is shown
        assert not keys & {"allow_ai", "reassign", "compose('reply')", "compose('note')"}
        await pilot.press("a", "R", "r")
        await pilot.pause()
        assert not isinstance(app.screen, ReassignScreen)
        assert not any("Open a ticket first" in n for n in notifications(app))
        await open_ana_ticket(app, pilot, inbox)
        keys = footer_keys(app)
        assert {"allow_ai", "reassign", "compose('reply')", "compose('note')"} <= keys
        assert "take_over" not in keys


async def test_an_empty_view_shows_no_ticket_and_no_composer(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app, ticket_of=inbox) as pilot:
        await pilot.press("5")  # Ana has no mentions
        await wait_until(pilot, lambda: app.inbox.view is View.MENTIONS and detail_target(app) is None)
        assert shown_ticket(app) is None
        assert not app.inbox.query_one(Composer).region.height
        assert "Nobody mentioned you yet." in screen_text(app)
        await pilot.press("r")
        await pilot.pause()
        assert app.focused is not app.inbox.query_one(Composer).input


async def test_without_a_token_the_inbox_opens_read_only_and_says_how_to_get_one(inbox: Inbox) -> None:
    app = inbox.app(None, agent_handle="cleo")
    async with running(app) as pilot:
        text = screen_text(app)
        assert "not signed in" in text
        assert any("inbox-tui agents add cleo" in n for n in notifications(app))
        assert app.inbox.query_one("#rows", RowList).row_count == 3  # still browsable
        await pilot.press("t")
        await pilot.pause()
        assert shown_ticket(app) is None


async def test_a_draft_survives_switching_tickets_and_a_restart(inbox: Inbox) -> None:
    s = inbox.seeded
    app = inbox.app()
    async with running(app) as pilot:
        await pilot.press("4")  # All open: both tickets
        rows = app.inbox.query_one("#rows", RowList)
        await wait_until(pilot, lambda: rows.row_count == 2 and shown_ticket(app) is not None)
        rows.select_key(ticket_key(s.ticket_on_ana))
        await wait_until(
            pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == s.ticket_on_ana
        )
        await pilot.press("n", *"half-written note")
        await pilot.press("escape", "escape")
        rows.select_key(ticket_key(s.unassigned_ticket))
        await wait_until(
            pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == s.unassigned_ticket
        )
        assert app.inbox.query_one(Composer).text == ""
        rows.select_key(ticket_key(s.ticket_on_ana))
        await wait_until(
            pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == s.ticket_on_ana
        )
        assert app.inbox.query_one(Composer).text == "half-written note"
        assert app.inbox.query_one(Composer).mode == NOTE
    again = inbox.app()
    async with running(again, ticket_of=inbox) as pilot:
        assert again.inbox.query_one(Composer).text == "half-written note"


async def test_a_click_on_a_row_selects_it(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        rows = app.inbox.query_one("#rows", RowList)
        third = rows.keys[2]
        await pilot.click("#rows", offset=(5, 2))  # rows at 0, 1, 2 (the border is the list pane's)
        assert rows.cursor_key == third


async def test_views_helper_counts_match_the_store(inbox: Inbox) -> None:
    """The sidebar shows what the core counts (a guard against a stale sidebar)."""
    app = inbox.app()
    async with running(app):
        store = inbox.store()
        try:
            async with store.read() as session:
                expected = await views.counts(session, inbox.seeded.ana_id)
        finally:
            await store.close()
        assert app.inbox.query_one(Sidebar).counts == expected


@pytest.mark.parametrize("size", [(80, 24)])
async def test_at_80_columns_the_detail_takes_the_width_and_escape_goes_back(inbox: Inbox, size) -> None:  # type: ignore[no-untyped-def]
    app = inbox.app()
    async with running(app, size=size, ticket_of=inbox) as pilot:
        await pilot.press("r")
        assert not app.inbox.query_one("#sidebar").display or app.screen.has_class("-in-detail")
        assert app.inbox.query_one(TicketPane).region.width > 60
        await pilot.press("escape", "escape")
        assert app.focused.id == "rows"
        assert app.inbox.query_one("#list-column").region.width > 0
        # The views, folded into one line (shorter titles when unread marks need the room).
        text = screen_text(app)
        assert "1 Conv" in text and "2 Mine" in text


async def test_the_status_bar_never_says_not_signed_in_before_the_token_is_checked(inbox: Inbox) -> None:
    from inbox_tui.tui.widgets.status_bar import StatusBar

    app = inbox.app()
    seen: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        bar = app.inbox.query_one(StatusBar)
        while not app.ready.is_set():
            seen.append(str(bar.render()))
            await pilot.pause(0.01)
        await pilot.pause()
        seen.append(str(bar.render()))
    assert seen[0].startswith("opening the inbox")
    assert not any("not signed in" in line for line in seen)
    assert not any("bridge: off" in line for line in seen[:-1])
    assert "Ana Lima (@ana)" in seen[-1]


async def test_a_refused_flow_is_said_and_the_ticket_refreshed(inbox: Inbox) -> None:
    """Bob closes the ticket from another client while Ana writes: her reply is refused,
    the refusal is said, and the pane shows what is true now."""
    from inbox_tui.core.tickets import allow_ai_replies

    app = inbox.app()
    async with running(app, ticket_of=inbox) as pilot:
        await pilot.press("r", *"too late")
        store = inbox.store()
        try:
            await allow_ai_replies(store, inbox.seeded.ticket_on_ana, inbox.seeded.bob_id)
        finally:
            await store.close()
        await pilot.press("ctrl+j")
        await wait_until(pilot, lambda: any(n.startswith("Not sent:") for n in notifications(app)), what="the refusal")
        # Refreshed: the closed ticket (or, once the list follows, the emptied view) has
        # no composer left to type into.
        await wait_until(pilot, lambda: not app.inbox.query_one(Composer).region.height, what="the refresh")
        assert shown_ticket(app) is None or shown_ticket(app).ticket.status == TicketStatus.CLOSED


async def test_the_ticket_header_says_who_holds_it_from_my_side(inbox: Inbox) -> None:
    s = inbox.seeded
    for token, ticket_id, expected in (
        ("ana", s.ticket_on_ana, "On you ·"),
        ("bob", s.ticket_on_ana, "On Ana Lima (@ana) ·"),
        ("ana", s.unassigned_ticket, "Unassigned ·"),
    ):
        app = inbox.app(token)
        async with running(app) as pilot:
            await pilot.press("4")
            rows = app.inbox.query_one("#rows", RowList)
            await wait_until(pilot, lambda: rows.row_count == 2)
            rows.select_key(ticket_key(ticket_id))
            await wait_until(pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == ticket_id)
            header = str(app.inbox.query_one("#ticket-header").render())
            assert expected in header, (token, header)
            assert "On you" not in header or (token == "ana" and ticket_id == s.ticket_on_ana)


async def test_typing_writes_the_drafts_file_once_the_typing_pauses(inbox: Inbox) -> None:
    from inbox_tui.tui.widgets.composer import DRAFT_SAVE_DELAY

    app = inbox.app()
    async with running(app, ticket_of=inbox) as pilot:
        drafts = app.inbox.query_one(Composer).drafts
        await pilot.press("r", *"a draft typed quickly")
        assert drafts.pending and not drafts.path.exists()  # not on every keystroke
        await pilot.pause(DRAFT_SAVE_DELAY + 0.5)
        assert not drafts.pending and "a draft typed quickly" in drafts.path.read_text(encoding="utf-8")
