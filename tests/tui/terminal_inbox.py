"""The real programs in a real terminal, for the end-to-end tests: a database set up with
the ``inbox-tui`` command, ``inbox-tui serve`` as a process (``ServeProcess``), and each
teammate's inbox in its own tmux session, read with capture-pane."""

from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.channel.fault_support import ServeProcess, free_port
from tests.support.requirements import requires_program

TMUX_TESTS = [pytest.mark.slow, requires_program("tmux", "apt-get install tmux")]
BIN = Path(sys.executable).parent

__all__ = ["BIN", "TMUX_TESTS", "ServeProcess", "TmuxInbox", "free_port", "tmux", "wait_for_screen"]


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


def inbox_environment(tmp_path: Path) -> dict[str, str]:
    """A SQLite file, the offline AI and private config/data directories under ``tmp_path``."""
    return {
        **os.environ,
        "INBOX_DB_URL": f"sqlite+aiosqlite:///{tmp_path / 'inbox.db'}",
        "INBOX_AI": "offline",
        "INBOX_CONFIG_DIR": str(tmp_path / "config"),
        "INBOX_DATA_DIR": str(tmp_path / "data"),
        "TEXTUAL_ANIMATIONS": "none",
    }


def inbox_command(env: dict[str, str], *args: str) -> str:
    """Run ``inbox-tui ARGS`` to its end; its output."""
    done = subprocess.run(
        [str(BIN / "inbox-tui"), *args], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def add_teammate(env: dict[str, str], handle: str, name: str) -> str:
    """``inbox-tui agents add``; the teammate's token."""
    added = inbox_command(env, "agents", "add", handle, "--name", name)
    return next(line.split(": ", 1)[1] for line in added.splitlines() if line.startswith("token: "))


@dataclass
class TmuxInbox:
    """One teammate's ``inbox-tui`` in its own tmux session."""

    session: str

    @classmethod
    def named(cls, prefix: str = "inbox") -> TmuxInbox:
        """A session name of its own; nothing runs until ``run``."""
        return cls(f"{prefix}-{uuid.uuid4().hex[:8]}")

    def run(
        self, env: dict[str, str], token: str, server_url: str, *, size: tuple[int, int] = (120, 40), before: str = ""
    ) -> None:
        """Start the inbox in this session (again, after it quit). ``before``: a shell
        command run first (a pause, so a pipe can be attached)."""
        settings = {**env, "INBOX_TOKEN": token, "INBOX_SERVER_URL": server_url}
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in settings.items() if k.startswith(("INBOX_", "TEXTUAL_")))
        command = f"exec env {exports} TERM=xterm-256color {shlex.quote(str(BIN / 'inbox-tui'))}"
        width, height = size
        tmux(
            "new-session",
            "-d",
            "-s",
            self.session,
            "-x",
            str(width),
            "-y",
            str(height),
            f"{before}; {command}" if before else command,
        )

    def screen(self) -> str:
        return tmux("capture-pane", "-p", "-t", self.session)

    async def wait_for(self, needle: str, timeout: float = 15.0) -> str:
        return await wait_for_screen(self.session, needle, timeout)

    def press(self, *keys: str) -> None:
        tmux("send-keys", "-t", self.session, *keys)

    def type(self, text: str) -> None:
        tmux("send-keys", "-t", self.session, "-l", text)

    def running(self) -> bool:
        return subprocess.run(["tmux", "has-session", "-t", self.session], capture_output=True).returncode == 0

    async def quit(self, timeout: float = 10.0) -> None:
        """Press q and wait until the inbox (and with it the session) has ended."""
        self.press("q")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"the inbox did not quit on q:\n{self.screen()}")

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.session], capture_output=True)
