"""A snooze whose time came, through the real server (its waker on a pinned clock) and
the bridge: the holder's inbox alerts (toast and bell) and the timeline says who has it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from inbox_tui.channel import snooze_waker
from inbox_tui.core import lifecycle
from inbox_tui.core.models import Ticket, TicketStatus, TimelineEvent
from inbox_tui.tui import terminal_signals
from tests.tui.conftest import Inbox, notifications, wait_until
from tests.tui.test_live_bridge import channel_server, started


async def test_the_holder_is_alerted_when_a_snooze_ends(inbox: Inbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snooze_waker, "WAKE_INTERVAL_SECONDS", 0.05)
    ticket_id = inbox.seeded.ticket_on_ana
    store = inbox.store()  # the same pinned clock as the server's and the inbox's
    try:
        await lifecycle.snooze(store, ticket_id, inbox.seeded.ana_id, inbox.clock.now + timedelta(hours=1))
    finally:
        await store.close()
    async with channel_server(inbox) as server:
        app = inbox.app(server_url=server.url, connect_bridge=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await started(app, pilot)
            written_before = len(app.inbox.alerter.written)
            inbox.clock.advance(hours=1)  # the waker's next sweep finds it due
            await wait_until(
                pilot,
                lambda: any(f"Snooze ended: ticket #{ticket_id} is back on you" in n for n in notifications(app)),
                what="the snooze-ended toast",
            )
            assert terminal_signals.BEL in app.inbox.alerter.written[written_before:]

    store = inbox.store()
    try:
        async with store.read() as session:
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None and ticket.status == TicketStatus.ON_YOU
            ended = list(
                await session.scalars(
                    select(TimelineEvent.text).where(
                        TimelineEvent.ticket_id == ticket_id, TimelineEvent.code == "snooze_ended"
                    )
                )
            )
        assert ended == ["Snooze ended: back on Ana Lima (@ana)."]
    finally:
        await store.close()
