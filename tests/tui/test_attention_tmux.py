"""Alerts from the real process in a real terminal: `inbox-tui serve`, the inbox in a tmux
pane whose raw output is captured (pipe-pane), and a customer who asks for a person. The
ticket lands on the teammate: the toast is on the screen, and the bell, the desktop
notification (wrapped for tmux) and the window title are in the bytes the inbox wrote."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import subprocess
import time
import uuid
from pathlib import Path

from inbox_tui.client.customer import CustomerClient
from tests.tui.test_tmux_e2e import BIN, free_port, pytestmark, tmux, wait_for_screen

__all__ = ["pytestmark"]


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
    db = tmp_path / "inbox.db"
    env = {
        **os.environ,
        "INBOX_DB_URL": f"sqlite+aiosqlite:///{db}",
        "INBOX_AI": "offline",
        "INBOX_CONFIG_DIR": str(tmp_path / "config"),
        "INBOX_DATA_DIR": str(tmp_path / "data"),
        "TEXTUAL_ANIMATIONS": "none",
    }
    subprocess.run([str(BIN / "inbox-tui"), "db", "upgrade"], env=env, capture_output=True, check=True, timeout=60)
    added = subprocess.run(
        [str(BIN / "inbox-tui"), "agents", "add", "ana", "--name", "Ana Lima"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    token = next(line.split(": ", 1)[1] for line in added.stdout.splitlines() if line.startswith("token: "))
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "inbox-tui"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    session = f"inbox-alerts-{uuid.uuid4().hex[:8]}"
    raw = tmp_path / "pane.bytes"
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert "listening on" in line, line
        tui_env = {"INBOX_TOKEN": token, "INBOX_SERVER_URL": f"ws://127.0.0.1:{port}"}
        exports = " ".join(
            f"{k}={shlex.quote(v)}" for k, v in {**env, **tui_env}.items() if k.startswith(("INBOX_", "TEXTUAL_"))
        )
        tmux(
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "120",
            "-y",
            "40",
            # A second's pause: the pipe below is attached before the inbox writes anything.
            f"sleep 1; exec env {exports} TERM=xterm-256color {shlex.quote(str(BIN / 'inbox-tui'))}",
        )
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
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
