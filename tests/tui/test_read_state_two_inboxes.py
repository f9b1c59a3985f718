"""Each teammate's own read state, across two real inbox processes: `inbox-tui serve`, Ana's
and Bob's inboxes each in a tmux session, one SQLite database. Ana opening a ticket marks
it read for her only; Bob still sees it unread; a restarted inbox shows what its teammate
had read (the views line's ``●N``: how many rows of a view have news for this teammate)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
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
)

pytestmark = TMUX_TESTS

# The views line at 80 columns: "4 Open 2●1" (rows, then ●rows with news).
ALL_OPEN = re.compile(r"4 Open (\d+)(?:●(\d+))?")


def all_open_counts(screen: str) -> tuple[int, int] | None:
    """(rows with news, rows) of the All open view, as the views line shows them."""
    found = ALL_OPEN.search(screen)
    return (int(found.group(2) or 0), int(found.group(1))) if found else None


async def wait_for_counts(inbox: TmuxInbox, expected: tuple[int, int], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = inbox.screen()
        if all_open_counts(screen) == expected:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"All open never showed {expected} (news, rows):\n{screen}")


async def a_waiting_ticket(url: str, customer: str, follow_up: str) -> None:
    """A customer asks for a person (the bot escalates) and writes once more."""
    async with CustomerClient(url, customer={"id": customer.lower(), "name": customer, "locale": "en"}) as client:
        await client.send("I want to talk to a human, please")
        await client.wait_for(lambda f: f.get("type") == "message" and f.get("author") == "system", timeout=30)
        await client.send(follow_up)


def read_marks(db: Path) -> dict[str, set[int]]:
    """Which conversations each teammate has a read mark on."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT agents.handle, read_marks.conversation_id FROM read_marks "
            "JOIN agents ON agents.id = read_marks.agent_id"
        ).fetchall()
    marks: dict[str, set[int]] = {}
    for handle, conversation_id in rows:
        marks.setdefault(handle, set()).add(conversation_id)
    return marks


async def test_one_teammate_reading_a_ticket_leaves_it_unread_for_the_other_across_restarts(tmp_path: Path) -> None:
    env = inbox_environment(tmp_path)
    inbox_command(env, "db", "upgrade")
    tokens = {"ana": add_teammate(env, "ana", "Ana Lima"), "bob": add_teammate(env, "bob", "Bob Stone")}
    server = await ServeProcess.start(env, free_port(), tmp_path / "serve.log")
    ana, bob = TmuxInbox.named("inbox-ana"), TmuxInbox.named("inbox-bob")
    try:
        # Two customers wait before anyone is in: nothing has been shown to anyone yet.
        await a_waiting_ticket(server.url, "Zoe Reader", "My order is 4411.")
        await a_waiting_ticket(server.url, "Omar Reader", "It is about my invoice.")

        # Each inbox starts in the Conversations view, empty (both chats are tickets now),
        # so nothing is on screen to be marked read by being shown.
        for inbox, handle in ((ana, "ana"), (bob, "bob")):
            inbox.run(env, tokens[handle], server.url, size=(80, 24))
            await inbox.wait_for("bridge: connected", timeout=30)
        await wait_for_counts(ana, (2, 2))
        await wait_for_counts(bob, (2, 2))
        assert read_marks(tmp_path / "inbox.db") == {}

        # Ana opens All open: the ticket at the top is shown, so it is read, for her.
        ana.press("4")
        await ana.wait_for("All open · 2")
        await wait_for_counts(ana, (1, 2))
        ana.press("1")  # back to the empty view: nothing else is shown to her
        await ana.wait_for("Conversations · 0")
        marks = read_marks(tmp_path / "inbox.db")
        assert set(marks) == {"ana"} and len(marks["ana"]) == 1
        # Bob still has news on both.
        await wait_for_counts(bob, (2, 2))

        # Restarted, each inbox shows its own teammate's read state from the database.
        for inbox, handle, expected in ((ana, "ana", (1, 2)), (bob, "bob", (2, 2))):
            await inbox.quit()
            inbox.run(env, tokens[handle], server.url, size=(80, 24))
            await inbox.wait_for("bridge: connected", timeout=30)
            await wait_for_counts(inbox, expected)
        assert read_marks(tmp_path / "inbox.db") == marks
    finally:
        ana.kill()
        bob.kill()
        await server.stop()
