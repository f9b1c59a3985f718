"""End to end in a real terminal: `inbox-tui serve` as a process, `inbox-tui` in a tmux
pane, a customer on a websocket. The agent takes over, replies and allows AI replies by
pressing keys; the test reads the screen with capture-pane and checks what the customer
received and what the database holds."""

from __future__ import annotations

import asyncio
import os
import shlex
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from inbox_tui.client.customer import CustomerClient
from tests.support.requirements import requires_program

pytestmark = [
    pytest.mark.slow,
    requires_program("tmux", "apt-get install tmux"),
]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


async def wait_for_screen(session: str, needle: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = tmux("capture-pane", "-p", "-t", session)
        if needle in text:
            return text
        await asyncio.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared on the screen:\n{text}")


async def test_take_over_reply_and_allow_ai_in_a_real_terminal(tmp_path: Path) -> None:
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
    session = f"inbox-e2e-{uuid.uuid4().hex[:8]}"
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert "listening on" in line, line
        tui_env = {"INBOX_TOKEN": token, "INBOX_SERVER_URL": f"ws://127.0.0.1:{port}"}
        exports = " ".join(
            f"{k}={shlex.quote(v)}" for k, v in {**env, **tui_env}.items() if k.startswith(("INBOX_", "TEXTUAL_"))
        )
        # 80×24, the smallest size the inbox supports.
        tmux(
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "80",
            "-y",
            "24",
            f"env {exports} TERM=xterm-256color {shlex.quote(str(BIN / 'inbox-tui'))}",
        )
        await wait_for_screen(session, "bridge: connected", timeout=30)

        async with CustomerClient(
            f"ws://127.0.0.1:{port}", customer={"id": "zoe", "name": "Zoe Tmux", "locale": "en"}
        ) as customer:
            await customer.send("Hello, I need help with my invoice")
            await wait_for_screen(session, "Zoe Tmux")
            await wait_for_screen(session, "Hello, I need help")

            tmux("send-keys", "-t", session, "t")  # take over the selected (only) conversation
            await wait_for_screen(session, "On you ·")
            await wait_for_screen(session, "AI paused")

            tmux("send-keys", "-t", session, "r")
            # Type once the composer has the focus, as a person would (the footer then
            # lists the composer's keys): keys sent in the same instant as `r` are
            # routed to whatever had the focus when they arrived.
            await wait_for_screen(session, "^j Send")
            tmux("send-keys", "-t", session, "-l", "Your invoice is on its way")
            tmux("send-keys", "-t", session, "C-j")  # Ctrl+J sends in every terminal
            try:
                frame = await customer.wait_for(
                    lambda f: f.get("type") == "message" and f.get("author") == "agent", timeout=15
                )
            except TimeoutError:
                with sqlite3.connect(db) as connection:
                    stored = connection.execute("SELECT id, author, text, delivered_at FROM messages").fetchall()
                raise AssertionError(
                    f"the customer never got the reply; stored messages: {stored}; "
                    f"the screen:\n{tmux('capture-pane', '-p', '-t', session)}"
                ) from None
            assert frame["text"] == "Your invoice is on its way"
            await wait_for_screen(session, "Reply sent")

            tmux("send-keys", "-t", session, "Escape")
            await asyncio.sleep(0.5)  # a lone Esc: anything sent right after it would read as Alt+key
            tmux("send-keys", "-t", session, "a")
            await wait_for_screen(session, "AI replies allowed")
            await customer.wait_for(lambda f: f.get("type") == "mode" and f.get("mode") == "bot", timeout=15)

        with sqlite3.connect(db) as connection:
            (status,) = connection.execute("SELECT status FROM tickets").fetchone()
            assert status == "closed"
            conversation_status, ai_enabled = connection.execute(
                "SELECT status, ai_enabled FROM conversations"
            ).fetchone()
            assert conversation_status == "live" and ai_enabled == 1

        tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode != 0:
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("the inbox did not quit on q")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
