"""Fixtures for the web tests: headless Chromium (Debian's, never a downloaded one) through Playwright, against a
web server running in the test's own event loop over a real store, with a real channel
server for the tabs' bridges. Each browser tab starts a real ``inbox-tui open``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import select

from inbox_tui.channel.server import ChannelServer
from inbox_tui.core.models import Presence
from inbox_tui.core.store import Store
from inbox_tui.runtime import open_runtime
from inbox_tui.web.limiter import FailedSignIns
from inbox_tui.web.server import InboxWebServer, open_command
from tests.channel.conftest import make_settings
from tests.conftest import FixedClock
from tests.support.browser import launched_chromium

IDLE = timedelta(minutes=30)
ATTEMPTS = 3
WINDOW = timedelta(minutes=5)


@dataclass
class WebSetup:
    url: str
    store: Store
    clock: FixedClock
    server: InboxWebServer

    async def online(self, agent_id: int) -> bool:
        """Whether a bridge is connected as this teammate (what a tab's inbox opens)."""
        async with self.store.read() as session:
            rows = await session.scalars(select(Presence.id).where(Presence.agent_id == agent_id))
            return bool(list(rows))

    async def wait_online(self, agent_id: int, expected: bool = True, timeout: float = 40) -> None:
        async with asyncio.timeout(timeout):
            while await self.online(agent_id) != expected:
                await asyncio.sleep(0.2)


@pytest.fixture
async def web_setup(database_url: str, tmp_path: Path) -> AsyncIterator[WebSetup]:
    # A pinned clock that starts now: the tabs' own processes use the real clock.
    clock = FixedClock(datetime.now(UTC))
    settings = make_settings(database_url, tmp_path)
    runtime = await open_runtime(settings, migrate=False)
    channel = ChannelServer(runtime, "127.0.0.1", 0)
    await channel.start()
    store = Store(database_url, clock=clock)
    server = InboxWebServer(
        store,
        command=open_command(),
        check_interval=0.2,
        idle=IDLE,
        failed_sign_ins=FailedSignIns(ATTEMPTS, WINDOW, clock),
        tab_environment={
            "INBOX_DB_URL": database_url,
            "INBOX_SERVER_URL": channel.url,
            "INBOX_AI": "offline",
            "TEXTUAL_ANIMATIONS": "none",
        },
    )
    runner = web.AppRunner(server.make_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield WebSetup(f"http://127.0.0.1:{port}", store, clock, server)
    finally:
        await runner.cleanup()
        await store.close()
        await channel.stop()
        await runtime.close()


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with launched_chromium() as launched:
        yield launched


async def wait_for_inbox(page: object) -> None:
    """textual-serve's script marks the body once the inbox's first bytes arrived."""
    await page.wait_for_selector("body.-first-byte", state="attached", timeout=40_000)  # type: ignore[attr-defined]


async def sign_in_with_token(page: object, base_url: str, token: str) -> object:
    await page.goto(base_url + "/")  # type: ignore[attr-defined]
    await page.fill("#token", token)  # type: ignore[attr-defined]
    async with page.expect_navigation():  # type: ignore[attr-defined]
        await page.click("button[type=submit]")  # type: ignore[attr-defined]
    return page
