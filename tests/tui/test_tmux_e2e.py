"""End to end in a real terminal: `inbox-tui serve` as a process, `inbox-tui` in a tmux
pane, a customer on a websocket. The agent takes over, replies and allows AI replies by
pressing keys; the test reads the screen with capture-pane and checks what the customer
received and what the database holds."""

from __future__ import annotations

import asyncio
import sqlite3
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


async def test_take_over_reply_and_allow_ai_in_a_real_terminal(tmp_path: Path) -> None:
    db = tmp_path / "inbox.db"
    env = inbox_environment(tmp_path)
    inbox_command(env, "db", "upgrade")
    token = add_teammate(env, "ana", "Ana Lima")
    port = free_port()
    server = await ServeProcess.start(env, port, tmp_path / "serve.log")
    inbox = TmuxInbox.named("inbox-e2e")
    session = inbox.session
    try:
        # 80×24, the smallest size the inbox supports.
        inbox.run(env, token, server.url, size=(80, 24))
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

        await inbox.quit()
    finally:
        inbox.kill()
        await server.stop()
