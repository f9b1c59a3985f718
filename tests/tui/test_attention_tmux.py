"""Alerts from the real process in a real terminal: `inbox-tui serve`, the inbox in a tmux
pane whose raw output is captured (pipe-pane), and a customer who asks for a person. The
ticket lands on the teammate: the toast is on the screen, and the bell, the desktop
notification (wrapped for tmux) and the window title are in the bytes the inbox wrote."""

from __future__ import annotations

import asyncio
import re
import shlex
import time
from pathlib import Path

from inbox_tui.client.customer import CustomerClient
from tests.tui.terminal_inbox import (
    TMUX_TESTS,
    ServeProcess,
    TmuxInbox,
    add_teammate,
    free_port,
    inbox_command,
    inbox_environment,
    tmux,
    wait_for_screen,
)

pytestmark = TMUX_TESTS


async def wait_for_bytes(path: Path, needle: bytes, timeout: float = 20.0) -> bytes:
    deadline = time.monotonic() + timeout
    data = b""
    while time.monotonic() < deadline:
        data = path.read_bytes() if path.exists() else b""
        if needle in data:
            return data
        await asyncio.sleep(0.2)
    raise AssertionError(f"{needle!r} never written; the last 400 bytes: {data[-400:]!r}")


async def test_a_ticket_landing_on_me_rings_the_bell_and_notifies_the_desktop_through_tmux(tmp_path: Path) -> None:
    env = inbox_environment(tmp_path)
    inbox_command(env, "db", "upgrade")
    token = add_teammate(env, "ana", "Ana Lima")
    port = free_port()
    server = await ServeProcess.start(env, port, tmp_path / "serve.log")
    inbox = TmuxInbox.named("inbox-alerts")
    session = inbox.session
    raw = tmp_path / "pane.bytes"
    try:
        # A second's pause: the pipe below is attached before the inbox writes anything.
        inbox.run(env, token, server.url, size=(120, 40), before="sleep 1")
        # Everything the inbox writes, byte for byte.
        tmux("pipe-pane", "-t", session, f"cat >> {shlex.quote(str(raw))}")
        await wait_for_screen(session, "bridge: connected", timeout=30)

        async with CustomerClient(
            f"ws://127.0.0.1:{port}", customer={"id": "olga", "name": "Olga Alert", "locale": "en"}
        ) as customer:
            await customer.send("I want to talk to a human, please")
            await wait_for_screen(session, "on you: Olga Alert", timeout=30)
            data = await wait_for_bytes(raw, b"\x1bPtmux;\x1b\x1b]9;inbox-tui: New ticket #")
            assert b"\x07" in data  # the bell
            assert b"\x1bPtmux;\x1b\x1b]777;notify;inbox-tui;New ticket #" in data
        # The window title (OSC 2) carries the unread count: written when it changes. Whether
        # this ticket counts depends on whether its chat was on screen (read) when it came.
        title = await wait_for_bytes(raw, b"\x1b]2;")
        assert re.search(rb"\x1b\]2;(\(\d+\) )?inbox-tui\x07", title)
    finally:
        inbox.kill()
        await server.stop()
