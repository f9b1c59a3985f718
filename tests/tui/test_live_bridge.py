"""Live updates through a real ChannelServer on loopback: the bridge, toasts, reconnects,
and customer-written markup shown literally."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from inbox_tui.channel.server import ChannelServer
from inbox_tui.client.customer import CustomerClient
from inbox_tui.core.conversations import record_customer_message
from inbox_tui.core.tickets import add_note
from inbox_tui.runtime import open_runtime
from inbox_tui.tui.bridge_status import BridgeState
from inbox_tui.tui.widgets.row_list import RowList
from tests.tui.conftest import Inbox, notifications, screen_text, shown_ticket, thread_text, wait_until
from tests.tui.seed import MARKUP_ATTACKS


@contextlib.asynccontextmanager
async def channel_server(inbox: Inbox, port: int = 0) -> AsyncIterator[ChannelServer]:
    runtime = await open_runtime(inbox.settings(None), clock=inbox.clock)
    server = ChannelServer(runtime, "127.0.0.1", port)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
        await runtime.close()


async def started(app: Any, pilot: Any) -> None:
    await app.started_up.wait()
    await wait_until(pilot, lambda: app.inbox.bridge_status.state is BridgeState.CONNECTED, what="the bridge")


async def test_a_new_customer_message_appears_live_and_the_status_bar_says_connected(inbox: Inbox) -> None:
    async with channel_server(inbox) as server:
        app = inbox.app(server_url=server.url, connect_bridge=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await started(app, pilot)
            assert "bridge: connected" in screen_text(app)
            rows = app.inbox.query_one("#rows", RowList)
            selected = rows.cursor_key
            async with CustomerClient(server.url, customer={"id": "live-1", "name": "Nadia Live"}) as customer:
                await customer.send("Is the shop open on Sunday?")
                await wait_until(
                    pilot,
                    lambda: any(rows.record(k).customer_name == "Nadia Live" for k in rows.keys),
                    what="the new conversation",
                )
                assert rows.cursor_key == selected  # the selection stayed on its row
                assert "Nadia Live" in screen_text(app)
                assert "last event" in screen_text(app)
                # Selecting it shows its live transcript; the bot's reply arrives there too.
                new_key = next(k for k in rows.keys if rows.record(k).customer_name == "Nadia Live")
                rows.select_key(new_key)
                await wait_until(pilot, lambda: "Is the shop open on Sunday?" in thread_text(app))
                await customer.send("And on holidays?")
                await wait_until(pilot, lambda: "And on holidays?" in thread_text(app), what="the live message")


async def test_toasts_for_a_ticket_routed_to_me_and_for_a_mention(inbox: Inbox) -> None:
    async with channel_server(inbox) as server:
        app = inbox.app(server_url=server.url, connect_bridge=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await started(app, pilot)
            # Ana is the only teammate online (her bridge), so the bot's escalation is routed to her.
            async with CustomerClient(server.url, customer={"id": "esc-1", "name": "Olga Escalate"}) as customer:
                await customer.send("I want to talk to a human, please")
                await wait_until(
                    pilot,
                    lambda: any("on you: Olga Escalate" in n for n in notifications(app)),
                    timeout=15,
                    what="the new-ticket toast",
                )
            store = inbox.store()
            try:
                await add_note(store, inbox.seeded.ticket_on_ana, inbox.seeded.bob_id, "@ana can you check?")
            finally:
                await store.close()
            await wait_until(
                pilot, lambda: any("@bob mentioned you" in n for n in notifications(app)), what="the mention toast"
            )


async def test_the_server_down_at_start_then_up_reconnects_and_catches_up(inbox: Inbox) -> None:
    from tests.tui.conftest import closed_port

    port = closed_port()
    app = inbox.app(server_url=f"ws://127.0.0.1:{port}", connect_bridge=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.started_up.wait()
        await wait_until(pilot, lambda: app.inbox.bridge_status.state is BridgeState.RECONNECTING)
        assert "bridge: reconnecting" in screen_text(app)
        assert any("not reachable" in n for n in notifications(app))
        rows = app.inbox.query_one("#rows", RowList)
        # Something happens while the server is down: committed to the database first.
        store = inbox.store()
        try:
            await record_customer_message(store, inbox.seeded.live_ids[0], "written while you were away")
        finally:
            await store.close()
        async with channel_server(inbox, port=port):
            await wait_until(
                pilot, lambda: app.inbox.bridge_status.state is BridgeState.CONNECTED, timeout=15, what="the reconnect"
            )
            await wait_until(
                pilot,
                lambda: any(rows.record(k).preview == "written while you were away" for k in rows.keys),
                what="the catch-up",
            )
        await wait_until(
            pilot,
            lambda: app.inbox.bridge_status.state is BridgeState.RECONNECTING,
            what="reconnecting after the server stopped",
        )


async def test_a_wrong_token_is_refused_and_the_client_stops_retrying(inbox: Inbox) -> None:
    from inbox_tui.tui.bridge_client import BridgeClient
    from inbox_tui.tui.bridge_status import BridgeStatus

    async with channel_server(inbox) as server:
        statuses: list[BridgeStatus] = []
        client = BridgeClient(server.url, "not-a-token", 0, lambda event: None, statuses.append)
        await asyncio.wait_for(client.run(), 10)
        assert statuses[-1].state is BridgeState.UNAUTHORIZED


@pytest.mark.parametrize("attack", MARKUP_ATTACKS)
async def test_customer_markup_and_escape_sequences_are_shown_literally(inbox: Inbox, attack: str) -> None:
    async with channel_server(inbox) as server:
        app = inbox.app(server_url=server.url, connect_bridge=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await started(app, pilot)
            rows = app.inbox.query_one("#rows", RowList)
            name = f"Eve {attack}"
            async with CustomerClient(server.url, customer={"id": "eve", "name": name}) as customer:
                await customer.send(f"hello {attack} world")
                await wait_until(pilot, lambda: any(rows.record(k).customer_name == name for k in rows.keys))
                key = next(k for k in rows.keys if rows.record(k).customer_name == name)
                rows.select_key(key)
                await wait_until(pilot, lambda: "hello" in thread_text(app) and "world" in thread_text(app))
                shown = attack.replace("\x1b", "␛").replace("\x07", "␇")
                text = screen_text(app)
                assert shown in thread_text(app)
                assert f"Eve {shown}"[:14] in text  # the list cell (truncated) and the header
                assert "\x1b" not in text and "\x07" not in text
                # Take it over: the name goes into a toast-free ticket header and the list.
                await pilot.press("t")
                await wait_until(pilot, lambda: shown_ticket(app) is not None)
                assert shown in thread_text(app)
                # Clicking where a parsed [@click=app.quit] would be must not quit.
                await pilot.click("#ticket-header")
                await pilot.pause()
                assert app.is_running
                await pilot.press("question_mark", "escape")
                assert app.is_running
