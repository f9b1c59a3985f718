"""A real channel server on loopback over a real store, with settings a test adjusts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.channel.conftest import StartChannel, running_channels


@pytest.fixture
async def serve(database_url: str, tmp_path: Path) -> AsyncIterator[StartChannel]:
    """``channel = await serve(adjust=lambda s: s, base_url=...)``; ``await channel.stop()``
    stops one early (a restart); every channel is stopped after the test."""
    async with running_channels(database_url, tmp_path) as start:
        yield start
