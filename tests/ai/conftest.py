"""A real channel server on loopback over a real store, with settings a test adjusts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from inbox_tui.channel.server import ChannelServer
from inbox_tui.runtime import open_runtime
from inbox_tui.settings import Settings
from tests.channel.conftest import Channel, make_settings


@pytest.fixture
async def serve(database_url: str, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """``channel = await serve(adjust=lambda s: s, base_url=...)``; ``await stop(channel)``
    stops one early (a restart); every channel is stopped after the test."""
    running: list[Channel] = []

    async def start(adjust: Callable[[Settings], Settings] = lambda s: s, **options: Any) -> Channel:
        settings = adjust(make_settings(database_url, tmp_path, **options))
        runtime = await open_runtime(settings, migrate=False)
        server = ChannelServer(runtime, "127.0.0.1", 0)
        await server.start()
        channel = Channel(runtime, server)
        running.append(channel)
        return channel

    yield start
    for channel in running:
        await stop(channel)


async def stop(channel: Channel) -> None:
    if getattr(channel, "stopped", False):
        return
    channel.stopped = True  # type: ignore[attr-defined]
    await channel.server.stop()
    await channel.runtime.close()
