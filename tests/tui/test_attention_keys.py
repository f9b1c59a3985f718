"""Keys of the attention loop, driven with the Pilot against a real SQLite store."""

from __future__ import annotations

from sqlalchemy import select

from inbox_tui.core.models import Ticket
from inbox_tui.core.tickets import reassign
from inbox_tui.core.views import View
from inbox_tui.tui.screens.confirm import ConfirmScreen
from inbox_tui.tui.targets import TicketTarget
from tests.tui.conftest import Inbox, notifications, shown_ticket, wait_until
from tests.tui.test_app_keys import footer_keys, running


def offered(app) -> set[str]:  # type: ignore[no-untyped-def]
    """The actions that apply now, shown in the footer or not."""
    return {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}


async def assignee_of(inbox: Inbox, ticket_id: int) -> int | None:
    store = inbox.store()
    try:
        async with store.read() as session:
            return await session.scalar(select(Ticket.assignee_id).where(Ticket.id == ticket_id))
    finally:
        await store.close()


async def test_t_claims_an_unassigned_ticket_and_is_left_out_where_it_does_not_apply(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        assert "claim" not in footer_keys(app)  # a live conversation: t takes it over instead
        await pilot.press("3")
        unassigned = inbox.seeded.unassigned_ticket
        await wait_until(pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == unassigned)
        assert "claim" in footer_keys(app) and "take_over" not in footer_keys(app)
        await pilot.press("t")
        await wait_until(pilot, lambda: any("is on you now" in n for n in notifications(app)), what="claimed")
        assert await assignee_of(inbox, unassigned) == inbox.seeded.ana_id


async def test_t_on_my_own_ticket_does_nothing_and_is_not_offered(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app, ticket_of=inbox) as pilot:
        assert "claim" not in footer_keys(app)
        await pilot.press("t")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmScreen)


async def test_a_claim_lost_to_a_faster_teammate_says_who_has_it(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        await pilot.press("3")
        unassigned = inbox.seeded.unassigned_ticket
        await wait_until(pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == unassigned)
        store = inbox.store()
        try:  # Bob claims it from his own inbox first; this one has not refreshed yet.
            from inbox_tui.core.claiming import claim_ticket

            assert (await claim_ticket(store, unassigned, inbox.seeded.bob_id)).won
        finally:
            await store.close()
        await pilot.press("t")
        await wait_until(pilot, lambda: any("claimed first by Bob Stone (@bob)" in n for n in notifications(app)))
        assert await assignee_of(inbox, unassigned) == inbox.seeded.bob_id


async def test_t_on_a_teammates_ticket_asks_before_taking_it_over(inbox: Inbox) -> None:
    store = inbox.store()
    try:
        await reassign(store, inbox.seeded.ticket_on_ana, inbox.seeded.bob_id, inbox.seeded.bob_id)
    finally:
        await store.close()
    app = inbox.app()
    async with running(app) as pilot:
        await pilot.press("4")
        target = inbox.seeded.ticket_on_ana
        await wait_until(pilot, lambda: shown_ticket(app) is not None)
        app.inbox.list_pane.select(TicketTarget(target))
        await wait_until(pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == target)
        assert "On Bob Stone (@bob)" in str(app.inbox.query_one("#ticket-header").render())
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await pilot.pause(0.2)
        assert await assignee_of(inbox, target) == inbox.seeded.bob_id
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: any("is on you now" in n for n in notifications(app)))
        assert await assignee_of(inbox, target) == inbox.seeded.ana_id


async def test_rows_show_unread_marks_and_opening_a_ticket_marks_it_read_in_the_store(inbox: Inbox) -> None:
    from inbox_tui.core.attention import unread_view_counts
    from inbox_tui.tui.widgets.inbox_rows import ticket_key

    app = inbox.app()
    async with running(app) as pilot:
        # Nothing was read yet: every live conversation is unread, and the views say so.
        await wait_until(pilot, lambda: app.inbox.unread.get(View.CONVERSATIONS, 0) > 0, what="unread counts")
        rows = app.inbox.rows
        # The row under the cursor is shown, so read; the others are not.
        others = [rows.record(k) for k in rows.keys if k != rows.cursor_key]
        assert others and all(r.unread > 0 for r in others)
        await wait_until(pilot, lambda: rows.cursor_record.unread == 0, what="the shown row read")
        await pilot.press("2")
        ticket_id = inbox.seeded.ticket_on_ana
        await wait_until(pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == ticket_id)
        await wait_until(pilot, lambda: rows.record(ticket_key(ticket_id)).unread == 0, what="row read")
        await wait_until(pilot, lambda: app.inbox.unread.get(View.ON_YOU, 1) == 0, what="On you read")
    store = inbox.store()
    try:  # In the store, for Ana only: a restart or another node shows the same.
        async with store.read() as session:
            assert (await unread_view_counts(session, inbox.seeded.ana_id))[View.ON_YOU] == 0
            assert (await unread_view_counts(session, inbox.seeded.bob_id))[View.ALL_OPEN] > 0
    finally:
        await store.close()


async def test_w_sorts_ticket_lists_by_longest_waiting_and_back(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app) as pilot:
        assert "sort_waiting" not in offered(app)  # the conversations list has no waiting order
        await pilot.press("4")
        await wait_until(pilot, lambda: app.inbox.view is View.ALL_OPEN and app.inbox.rows.row_count > 0)
        assert "sort_waiting" in offered(app)
        await pilot.press("w")
        await wait_until(pilot, lambda: "longest waiting first" in str(app.inbox.list_pane.border_title))
        records = [app.inbox.rows.record(k) for k in app.inbox.rows.keys]
        waiting = [r.waiting_since for r in records if r.waiting_since is not None]
        assert waiting == sorted(waiting)
        assert all(r.waiting_since is not None for r in records[: len(waiting)])
        await pilot.press("w")
        await wait_until(pilot, lambda: "longest waiting" not in str(app.inbox.list_pane.border_title))


async def conversation_of(store, ticket_id: int) -> int:  # type: ignore[no-untyped-def]
    async with store.read() as session:
        return int(await session.scalar(select(Ticket.conversation_id).where(Ticket.id == ticket_id)))


async def feed_events(app, inbox: Inbox, after: int) -> int:  # type: ignore[no-untyped-def]
    """Hand the inbox the events committed since ``after``, as the bridge would."""
    from inbox_tui.core import events as core_events
    from inbox_tui.core.events import event_to_dict
    from inbox_tui.tui.live_updates import event_received

    store = inbox.store()
    try:
        async with store.read() as session:
            logged = await core_events.since(session, after)
    finally:
        await store.close()
    for event in logged:
        arrived = event_received(event_to_dict(event))
        assert arrived is not None
        app.inbox.post_message(arrived)
    return logged[-1].id if logged else after


async def test_a_customer_writing_on_my_ticket_alerts_with_toast_bell_and_desktop_and_my_reply_does_not(
    inbox: Inbox,
) -> None:
    from inbox_tui.core.conversations import record_customer_message
    from inbox_tui.core.tickets import send_agent_reply

    app = inbox.app()
    async with running(app) as pilot:
        after = app.inbox.last_event_id
        store = inbox.store()
        try:
            conversation_id = await conversation_of(store, inbox.seeded.ticket_on_ana)  # Sam Lee, on Ana
            await record_customer_message(store, conversation_id, "Hello? anyone there?")
        finally:
            await store.close()
        after = await feed_events(app, inbox, after)
        ticket_id = inbox.seeded.ticket_on_ana
        await wait_until(
            pilot,
            lambda: any(f"The customer wrote on ticket #{ticket_id}: Sam Lee" in n for n in notifications(app)),
            what="the alert toast",
        )
        written = app.inbox.alerter.written
        assert "\a" in written and any(w.startswith("\x1b]9;inbox-tui: The customer wrote") for w in written)
        assert any(w.startswith("\x1b]2;") for w in written)  # the unread count in the window title
        app.clear_notifications()
        before = len(written)
        inbox.clock.advance(minutes=2)  # past the interval: only my own doing keeps it quiet
        store = inbox.store()
        try:
            await send_agent_reply(store, ticket_id, inbox.seeded.ana_id, "Here, sorry!")
        finally:
            await store.close()
        await feed_events(app, inbox, after)
        await pilot.pause(0.5)
        assert not any("Inbox" in n or "ticket #" in n for n in notifications(app))
        assert all(not w.startswith("\x1b]9;") and w != "\a" for w in written[before:])


async def test_alerts_switched_off_in_the_settings_write_nothing_to_the_terminal(inbox: Inbox) -> None:
    from inbox_tui.core.conversations import record_customer_message
    from inbox_tui.settings import AlertSettings
    from inbox_tui.tui.app import InboxApp

    quiet = AlertSettings(bell=False, desktop=False, window_title=False)
    settings = inbox.settings().replace(alerts=quiet)
    app = InboxApp(settings, clock=inbox.clock, connect_bridge=False, cursor_blink=False)
    async with running(app) as pilot:
        after = app.inbox.last_event_id
        store = inbox.store()
        try:
            await record_customer_message(store, await conversation_of(store, inbox.seeded.ticket_on_ana), "Hello?")
        finally:
            await store.close()
        await feed_events(app, inbox, after)
        await wait_until(pilot, lambda: any("The customer wrote" in n for n in notifications(app)))
        assert app.inbox.alerter.written == []


async def test_a_warns_before_handing_back_an_unanswered_customer_message(inbox: Inbox) -> None:
    from inbox_tui.core.conversations import record_customer_message
    from inbox_tui.core.models import TicketStatus

    store = inbox.store()
    try:
        conversation_id = await conversation_of(store, inbox.seeded.ticket_on_ana)
        await record_customer_message(store, conversation_id, "One more thing: [b]can I get a refund?[/b]")
    finally:
        await store.close()
    app = inbox.app()
    async with running(app, ticket_of=inbox) as pilot:
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "[b]can I get a refund?[/b]" in app.screen.question  # literal, as the customer wrote it
        await pilot.press("n")
        await pilot.pause(0.2)
        assert shown_ticket(app).ticket.status != TicketStatus.CLOSED
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: any("AI replies allowed again" in n for n in notifications(app)))


async def test_replying_to_an_unassigned_ticket_offers_to_claim_it(inbox: Inbox) -> None:
    from inbox_tui.core.models import Author, Message

    app = inbox.app()
    async with running(app) as pilot:
        await pilot.press("3")
        unassigned = inbox.seeded.unassigned_ticket
        await wait_until(pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == unassigned)
        await pilot.press("r")
        await pilot.pause(0.2)  # the composer has the focus
        await pilot.press(*"Hola Maria")
        await pilot.press("ctrl+j")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: any("Reply sent" in n for n in notifications(app)), what="the reply")
        assert await assignee_of(inbox, unassigned) == inbox.seeded.ana_id
        store = inbox.store()
        try:
            async with store.read() as session:
                texts = list(await session.scalars(select(Message.text).where(Message.author == Author.AGENT)))
        finally:
            await store.close()
        assert "Hola Maria" in texts


async def test_claiming_beyond_my_capacity_asks_first(inbox: Inbox) -> None:
    from sqlalchemy import update

    from inbox_tui.core.models import Agent

    store = inbox.store()
    try:
        async with store.write() as session:
            await session.execute(update(Agent).where(Agent.id == inbox.seeded.ana_id).values(capacity=1))
    finally:
        await store.close()
    app = inbox.app()
    async with running(app) as pilot:
        await pilot.press("3")
        unassigned = inbox.seeded.unassigned_ticket
        await wait_until(pilot, lambda: shown_ticket(app) is not None and shown_ticket(app).ticket.id == unassigned)
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "beyond capacity (2 open, capacity 1)" in app.screen.question
        await pilot.press("n")
        await pilot.pause(0.2)
        assert await assignee_of(inbox, unassigned) is None
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: any("is on you now" in n for n in notifications(app)))
        assert await assignee_of(inbox, unassigned) == inbox.seeded.ana_id
