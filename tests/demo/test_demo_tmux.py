"""End to end: `inbox-tui demo` exactly as README.md says, in a real terminal (tmux), with
fresh data and config directories. Within 10 seconds the Conversations view lists
simulated customers and a ticket escalated by the bot appears; quitting ends the process
and frees the port."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from inbox_tui.demo.scripts import ALL_SCRIPTS
from tests.support.requirements import requires_program

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    requires_program("tmux", "apt-get install tmux"),
]


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert match, f"README.md has no section {title!r}"
    return match.group(1)


def readme_demo_command() -> str:
    """The line of the README's install block that starts the demo."""
    block = re.search(r"```sh\n(.*?)```", readme_section("Install and run the demo"), flags=re.DOTALL)
    assert block, "the README's install section has no sh block"
    lines = [line for line in block.group(1).splitlines() if re.search(r"inbox-tui demo\b", line)]
    assert len(lines) == 1, f"expected one demo command in the README, got {lines}"
    return lines[0].strip()


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], check=True, capture_output=True, text=True).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_for(predicate, timeout: float, session: str) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen(session)
        if predicate(text):
            return text
        time.sleep(0.25)
    raise AssertionError(f"not on screen within {timeout} s:\n{text}")


def count(text: str, view: str) -> int:
    # The total, after the unread mark (●N) when the view has news.
    match = re.search(rf"{re.escape(view)}\s*(?:●[\d+]\s*)?\s(\d+)", text)
    return int(match.group(1)) if match else 0


def test_readme_demo_command_in_a_real_terminal(tmp_path: Path) -> None:
    command = readme_demo_command()
    assert command == ".venv/bin/inbox-tui demo"
    assert (ROOT / ".venv/bin/inbox-tui").exists(), "install as README.md says first (.ci/run does)"
    data, config, exit_file = tmp_path / "data", tmp_path / "config", tmp_path / "exit-code"
    session = f"inbox-demo-e2e-{uuid.uuid4().hex[:8]}"
    environment = {"INBOX_DATA_DIR": str(data), "INBOX_CONFIG_DIR": str(config), "TEXTUAL_ANIMATIONS": "none"}
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in environment.items())
    # Only the variables the README's command needs; no key: the demo must need none.
    # COLUMNS/LINES from the test runner would override the terminal's real size.
    unset = "-u OPENAI_API_KEY -u OPENAI_BASE_URL -u INBOX_DB_URL -u COLUMNS -u LINES"
    script = f"cd {shlex.quote(str(ROOT))} && env {unset} {exports} {command}; echo $? > {shlex.quote(str(exit_file))}"
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", script)
    try:
        started = time.monotonic()
        # First names, as a narrow list column may cut the rest.
        first_names = {s.persona.name.split()[0] for s in ALL_SCRIPTS}

        def inbox_is_busy(text: str) -> bool:
            # The list pane's title counts its rows: "Conversations · 3".
            rows = re.search(r"Conversations · (\d+)", text)
            listed = sum(1 for name in first_names if re.search(rf"\b{re.escape(name)}\b", text))
            # No teammate acts in this test: every open ticket is one the bot escalated.
            return bool(rows) and int(rows.group(1)) >= 2 and listed >= 2 and count(text, "All open") >= 1

        text = wait_for(inbox_is_busy, 10.0, session)
        elapsed = time.monotonic() - started
        assert "Conversations" in text and count(text, "Conversations") >= 1
        print(f"\ninbox busy after {elapsed:.1f} s:\n{text}")

        announced = json.loads((data / "demo-server.json").read_text())
        port = int(announced["url"].rsplit(":", 1)[1])

        tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 10
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert exit_file.exists(), f"the demo did not quit:\n{screen(session)}"
        assert exit_file.read_text().strip() == "0"
        assert not (data / "demo-server.json").exists()
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, "the demo's server still listens"
        with pytest.raises(ProcessLookupError):
            os.kill(int(announced["pid"]), 0)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def test_readme_walkthrough_take_over_reply_and_hand_back(tmp_path: Path) -> None:
    """The README's "things to try", key by key: take over the customer who waits, reply,
    the simulated customer answers, Allow AI replies, the bot is back."""
    session = f"inbox-demo-walk-{uuid.uuid4().hex[:8]}"
    environment = {
        "INBOX_DATA_DIR": str(tmp_path / "data"),
        "INBOX_CONFIG_DIR": str(tmp_path / "config"),
        "TEXTUAL_ANIMATIONS": "none",
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in environment.items())
    script = (
        f"cd {shlex.quote(str(ROOT))} && env -u OPENAI_API_KEY -u OPENAI_BASE_URL -u INBOX_DB_URL "
        f"-u COLUMNS -u LINES {exports} {readme_demo_command()}"
    )
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", script)

    def keys(*sequence: str, literal: bool = False) -> None:
        tmux("send-keys", "-t", session, *(["-l"] if literal else []), *sequence)
        time.sleep(0.3)

    try:
        wait_for(lambda text: "Noah" in text, 30.0, session)
        keys("1")
        keys("/")
        keys("Noah", literal=True)
        keys("Enter")
        wait_for(lambda text: "Noah Williams" in text and "Conversations · 1" in text, 20.0, session)
        keys("t")
        # The timeline line, or (when a demo toast covers the thread's last lines) the
        # ticket's header (held by Ana) at the top of the detail.
        wait_for(
            lambda text: (
                re.search(r"Taken over by\s+Ana Silva", text) is not None
                or "On you · needs a reply · Noah Williams" in text
            ),
            20.0,
            session,
        )
        keys("r")
        # Type once the composer has the focus, as a person would: keys sent in the same
        # instant as `r` go to whatever had the focus when they arrived.
        wait_for(lambda text: "^j Send" in text, 20.0, session)
        keys("Hi Noah! Yes: 10% off from 10 bikes. Which model?", literal=True)
        keys("C-j")
        wait_for(lambda text: "That would be great" in text, 30.0, session)  # the customer answers
        keys("Escape")
        keys("a")
        # The customer's last message has no answer yet: asked first (the bot answers it).
        wait_for(lambda text: "Hand back to the bot?" in text, 20.0, session)
        keys("y")
        wait_for(lambda text: count(text, "Closed") >= 1, 20.0, session)
        keys("6")  # the closed ticket: the customer's goodbye, and the bot answers again
        wait_for(lambda text: "Noah" in text and "Enjoy the ride" in text, 30.0, session)
        keys("q")
        deadline = time.monotonic() + 15
        while (tmp_path / "data" / "demo-server.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        # A store read cut off half-way leaves these in the log (tests/tui/test_reads_never_cut.py).
        log = (tmp_path / "data" / "demo.log").read_text(encoding="utf-8")
        for sign in ("Task was destroyed but it is pending", "CancelledError", "Exception during reset"):
            assert sign not in log, f"demo.log has {sign!r}:\n{log[-4000:]}"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
