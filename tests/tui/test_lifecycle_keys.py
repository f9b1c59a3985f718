"""The lifecycle keys (P pending, z snooze, C close keeping the AI paused, o reopen),
driven with the Pilot against the seeded store."""

from __future__ import annotations

from typing import Any

from inbox_tui.core.models import Conversation, Ticket, TicketStatus
from inbox_tui.tui.commands import ACTIONS
from inbox_tui.tui.screens.lifecycle import ReopenScreen, SnoozeScreen
from tests.tui.conftest import Inbox, notifications, shown_ticket, wait_until
from tests.tui.test_app_keys import running
from tests.tui.test_snapshots import quiet


async def _ticket(inbox: Inbox, ticket_id: int) -> Ticket:
    store = inbox.store()
    try:
        async with store.read() as session:
            found = await session.get(Ticket, ticket_id)
            assert found is not None
            return found
    finally:
        await store.close()


async def _status_becomes(pilot: Any, inbox: Inbox, ticket_id: int, status: str) -> None:
    async def check() -> bool:
        return (await _ticket(inbox, ticket_id)).status == status

    for _ in range(100):
        if await check():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"ticket #{ticket_id} never became {status}")


async def test_p_sets_pending_and_z_snoozes(inbox: Inbox) -> None:
    app = inbox.app()
    ticket_id = inbox.seeded.ticket_on_ana
    async with running(app, ticket_of=inbox) as pilot:
        await pilot.press("P")
        await _status_becomes(pilot, inbox, ticket_id, TicketStatus.WAITING_ON_CUSTOMER)

        await pilot.press("z")
        await wait_until(pilot, lambda: isinstance(app.screen, SnoozeScreen), what="the snooze picker")
        await pilot.press("enter")  # the first choice: 1 hour
        await _status_becomes(pilot, inbox, ticket_id, TicketStatus.SNOOZED)
        ticket = await _ticket(inbox, ticket_id)
        assert ticket.snoozed_until is not None
        assert (ticket.snoozed_until - inbox.clock.now).total_seconds() == 3600
        await wait_until(pilot, lambda: any("snoozed until" in n for n in notifications(app)))


async def test_c_closes_keeping_the_ai_paused_and_o_reopens_with_a_reason(inbox: Inbox) -> None:
    app = inbox.app()
    ticket_id = inbox.seeded.ticket_on_ana
    async with running(app, ticket_of=inbox) as pilot:
        await pilot.press("C")
        await _status_becomes(pilot, inbox, ticket_id, TicketStatus.CLOSED)
        await wait_until(pilot, lambda: any("AI stays paused" in n for n in notifications(app)))
        await pilot.press("6")  # it left On you; the Closed view has it first
        await wait_until(
            pilot,
            lambda: (
                shown_ticket(app) is not None
                and shown_ticket(app).ticket.id == ticket_id
                and shown_ticket(app).ticket.status == TicketStatus.CLOSED
            ),
            what="the closed ticket shown",
        )
        assert app.inbox.check_action("reopen", ()) is True
        assert app.inbox.check_action("snooze", ()) is False

        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, ReopenScreen), what="the reopen prompt")
        await pilot.press(*"called back", "enter")
        await _status_becomes(pilot, inbox, ticket_id, TicketStatus.ON_YOU)

    store = inbox.store()
    try:
        async with store.read() as session:
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            conversation = await session.get(Conversation, ticket.conversation_id)
            assert conversation is not None and not conversation.ai_enabled
    finally:
        await store.close()


async def test_reopen_applies_only_to_a_closed_ticket(inbox: Inbox) -> None:
    app = inbox.app()
    async with running(app, ticket_of=inbox) as pilot:
        assert app.inbox.check_action("reopen", ()) is False
        await pilot.press("o")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, ReopenScreen)


def test_the_palette_offers_every_lifecycle_step() -> None:
    actions = {action for _, action, _ in ACTIONS}
    assert {"pending", "snooze", "close_paused", "reopen"} <= actions


def test_pending_and_snoozed_views_snapshot(snap_compare: Any, inbox: Inbox) -> None:
    import asyncio

    from inbox_tui.core import lifecycle

    async def arrange() -> None:
        store = inbox.store()
        try:
            await lifecycle.set_pending(store, inbox.seeded.ticket_on_ana, inbox.seeded.ana_id)
            await lifecycle.snooze(store, inbox.seeded.unassigned_ticket, inbox.seeded.ana_id, None)
        finally:
            await store.close()

    asyncio.run(arrange())
    app = inbox.app()

    async def run_before(pilot: Any) -> None:
        await app.started_up.wait()
        await pilot.press("7")
        await wait_until(pilot, lambda: app.inbox.view.value == "pending")
        await wait_until(pilot, lambda: shown_ticket(app) is not None, what="the pending ticket")
        await wait_until(pilot, lambda: not any(w.is_running for w in app.workers if w.group in ("list", "detail")))
        # Showing a row marks it read: let that flow and the unread counts after it land.
        for _ in range(2):
            await wait_until(pilot, lambda: quiet(app), timeout=20)
            await pilot.pause(0.4)
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
