"""A store with a pinned clock for every assignment test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from inbox_tui.core.store import Store
from tests.conftest import FixedClock


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()  # Saturday 2026-11-21 09:30 UTC


@pytest.fixture
async def store(database_url: str, clock: FixedClock) -> AsyncIterator[Store]:
    store = Store(database_url, clock=clock)
    yield store
    await store.close()
