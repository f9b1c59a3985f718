"""The widget in a real browser: Debian's Chromium driven by Playwright (never a
downloaded browser), the real chat server and store on loopback, and the demo shop page
(its own origin, a strict Content-Security-Policy) embedding the widget."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from inbox_tui.channel.server import ChannelServer
from inbox_tui.runtime import Runtime, open_runtime
from inbox_tui.settings import Settings
from inbox_tui.widget.demo_shop import DEMO_WIDGET_OPTIONS, serve_demo_shop
from tests.channel.conftest import make_settings
from tests.support.browser import launched_chromium

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 320, "height": 640}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def artefacts_dir() -> Path:
    """Screenshots for people to look at: ``test-artifacts/widget`` (ignored by git)."""
    path = Path(__file__).resolve().parents[2] / "test-artifacts" / "widget"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with launched_chromium() as launched:
        yield launched


@dataclass
class Site:
    """A chat server (restartable on its port) and a shop page that embeds its widget."""

    settings: Settings
    runtime: Runtime
    server: ChannelServer
    shop_url: str
    port: int

    @property
    def store(self):  # type: ignore[no-untyped-def]
        return self.runtime.store

    @property
    def widget_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/widget.js"

    async def stop_server(self) -> None:
        await self.server.stop()

    async def start_server(self) -> None:
        self.server = ChannelServer(self.runtime, "127.0.0.1", self.port)
        await self.server.start()


StartSite = Callable[..., Awaitable[Site]]


@pytest.fixture
async def start_site(database_url: str, tmp_path: Path) -> AsyncIterator[StartSite]:
    """``site = await start_site(allowed_origins=[...], widget={...})``."""
    stack: list[tuple[Site, Any]] = []

    async def start(widget: dict[str, str] | None = None, **server: Any) -> Site:
        port = free_port()
        settings = make_settings(database_url, tmp_path, **server)
        settings = settings.replace(server=settings.server.replace(port=port))
        runtime = await open_runtime(settings, migrate=False)
        channel = ChannelServer(runtime, "127.0.0.1", port)
        await channel.start()
        shop = serve_demo_shop(
            f"http://127.0.0.1:{port}/widget.js", options={**DEMO_WIDGET_OPTIONS, "locale": "en", **(widget or {})}
        )
        page = await shop.__aenter__()
        site = Site(settings, runtime, channel, page.url, port)
        stack.append((site, shop))
        return site

    yield start
    for site, shop in reversed(stack):
        await shop.__aexit__(None, None, None)
        await site.server.stop()
        await site.runtime.close()
