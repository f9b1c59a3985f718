"""A real channel server on loopback, over a real store, for the channel tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from inbox_tui.channel.server import ChannelServer
from inbox_tui.core.store import Store
from inbox_tui.runtime import Runtime, open_runtime
from inbox_tui.settings import AISettings, BotSettings, ServerSettings, Settings

KNOWLEDGE = """\
# Shop knowledge

## Shipping times
Keywords: delivery, envío, envio, entrega, livraison, versand, lieferung
Orders ship within 2 business days and arrive in 3 to 5 days.

## Opening hours
Keywords: open, hours, horario, horaires, öffnungszeiten
We are open Monday to Friday, 9:00 to 18:00 CET.
"""


def make_settings(
    database_url: str,
    tmp_path: Path,
    *,
    base_url: str | None = None,
    ai_timeout: float = 5.0,
    bot: dict[str, Any] | None = None,
    **server: Any,
) -> Settings:
    knowledge = tmp_path / "knowledge.md"
    knowledge.write_text(KNOWLEDGE, encoding="utf-8")
    ai = AISettings(
        backend="openai" if base_url else "offline",
        base_url=base_url,
        model="test-model",
        timeout=ai_timeout,
        summary_timeout=2.0,
    )
    return Settings(
        database_url=database_url,
        ai=ai,
        bot=BotSettings(knowledge_file=str(knowledge), **(bot or {})),
        server=ServerSettings(**server),
    )


class Channel:
    """A running server and its runtime."""

    def __init__(self, runtime: Runtime, server: ChannelServer) -> None:
        self.runtime = runtime
        self.server = server
        self.stopped = False

    @property
    def store(self) -> Store:
        return self.runtime.store

    @property
    def url(self) -> str:
        return self.server.url

    async def stop(self) -> None:
        """Stop the server and close the runtime, once (a test may stop one early)."""
        if self.stopped:
            return
        self.stopped = True
        await self.server.stop()
        await self.runtime.close()


StartChannel = Callable[..., Any]


@asynccontextmanager
async def running_channels(database_url: str, tmp_path: Path) -> AsyncIterator[StartChannel]:
    """``channel = await start(adjust=lambda s: s, base_url=..., rate_limit_burst=...)``;
    every channel started is stopped at the end (``await channel.stop()`` stops one early)."""
    running: list[Channel] = []

    async def start(adjust: Callable[[Settings], Settings] = lambda s: s, **options: Any) -> Channel:
        # database_url=... points a server at the same database another way (a proxy).
        settings = adjust(make_settings(options.pop("database_url", database_url), tmp_path, **options))
        runtime = await open_runtime(settings, migrate=False)
        server = ChannelServer(runtime, "127.0.0.1", 0)
        await server.start()
        channel = Channel(runtime, server)
        running.append(channel)
        return channel

    try:
        yield start
    finally:
        for channel in running:
            await channel.stop()


@pytest.fixture
async def start_channel(database_url: str, tmp_path: Path) -> AsyncIterator[StartChannel]:
    async with running_channels(database_url, tmp_path) as start:
        yield start
