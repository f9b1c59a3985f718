"""Fixtures for the TUI tests: a seeded inbox on a real SQLite file, and helpers to
drive the app with the Pilot."""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from inbox_tui.core.migrate import upgrade
from inbox_tui.core.store import Store
from inbox_tui.settings import AISettings, Settings, TUISettings
from tests.conftest import FixedClock
from tests.tui.seed import Seeded, seed_inbox, seed_queue

os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


def closed_port() -> int:
    """A loopback port nothing listens on (bound and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Inbox:
    url: str
    seeded: Seeded
    clock: FixedClock
    path: Path

    def settings(
        self,
        token: str | None = "ana",
        *,
        server_url: str | None = None,
        ai: AISettings | None = None,
        theme: str = "inbox-dark",
        keymap: dict[str, str] | None = None,
    ) -> Settings:
        tokens = {"ana": self.seeded.ana_token, "bob": self.seeded.bob_token}
        return Settings(
            database_url=self.url,
            ai=ai or AISettings(backend="offline"),
            tui=TUISettings(
                token=tokens.get(token or "", token),
                theme=theme,
                keymap=keymap or {},
                server_url=server_url or f"ws://127.0.0.1:{closed_port()}",
            ),
        )

    def app(self, token: str | None = "ana", *, connect_bridge: bool = False, **kwargs: Any) -> Any:
        from inbox_tui.tui.app import InboxApp

        settings_keys = {"server_url", "ai", "theme", "keymap"}
        settings = self.settings(token, **{k: v for k, v in kwargs.items() if k in settings_keys})
        return InboxApp(
            settings,
            clock=self.clock,
            connect_bridge=connect_bridge,
            cursor_blink=False,
            **{k: v for k, v in kwargs.items() if k not in settings_keys},
        )

    def store(self) -> Store:
        return Store(self.url, clock=self.clock)


async def build_inbox(path: Path, *, queue: bool = False) -> Inbox:
    """The seeded inbox; with ``queue``, customers waiting and news on top (``seed_queue``)."""
    url = f"sqlite+aiosqlite:///{path / 'inbox.db'}"
    clock = FixedClock()
    store = Store(url, clock=clock)
    try:
        await upgrade(store)
        seeded = await seed_inbox(store, clock)
        if queue:
            await seed_queue(store, clock, seeded)
    finally:
        await store.close()
    return Inbox(url, seeded, clock, path)


#: How long a task left behind by a test may take to end once cancelled.
LEFTOVER_TASK_SECONDS = 10.0


@pytest.fixture(autouse=True)
async def _finalize_connections_on_this_loop() -> Any:
    """Collect garbage before this test's event loop closes: an aiosqlite connection
    finalized later would schedule its close on the next test's loop and wait forever
    for a thread that answers to the old one.

    Then end what the test left running (nothing, normally): cancelled here, with a
    bound, while the loop still runs everything they wait for. A task that will not end
    is named with its stack, instead of the loop's close waiting for it until the
    suite's timeout (seen once, on a heavily loaded machine)."""
    yield
    gc.collect()
    await asyncio.sleep(0.01)
    leftovers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    for task in leftovers:
        task.cancel()
    if leftovers:
        _, stuck = await asyncio.wait(leftovers, timeout=LEFTOVER_TASK_SECONDS)
        for task in stuck:
            print(f"a task the test left would not end when cancelled: {task!r}", file=sys.stderr)
            task.print_stack(file=sys.stderr)
        assert not stuck, "tasks left running would not end (their stacks are above)"


@pytest.fixture
def inbox(tmp_path: Path) -> Inbox:
    return asyncio.run(build_inbox(tmp_path))


@pytest.fixture
def busy_inbox(tmp_path: Path) -> Inbox:
    """The seeded inbox with customers waiting, unread news and customers of one name."""
    return asyncio.run(build_inbox(tmp_path, queue=True))


async def wait_until(pilot: Any, predicate: Callable[[], Any], timeout: float = 15.0, what: str = "") -> None:
    # A bound for a loaded 2-core CI machine, not a speed check: a passing wait returns early.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.05)


def notifications(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


def screen_text(app: Any) -> str:
    """Everything on the screen as plain text (what a person would read)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def inbox_screen(app: Any) -> Any:
    return app.inbox


def shown_ticket(app: Any) -> Any:
    """The ticket the detail pane shows (None while it shows something else)."""
    return app.inbox.detail.shown_ticket


def detail_target(app: Any) -> Any:
    return app.inbox.detail.target


def thread_text(app: Any) -> str:
    """The plain text of the transcript shown in the detail pane (unwrapped)."""
    from inbox_tui.tui.widgets.thread_view import ThreadView

    switcher = app.inbox.query_one("#detail")
    pane = switcher.query_one(f"#{switcher.current}")
    threads = pane.query(ThreadView)
    return threads.first().plain if threads else ""
