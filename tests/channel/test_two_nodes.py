"""Two ``inbox-tui serve`` processes on one PostgreSQL database: a customer on node A,
the agent's bridge on node B, the teammate acting from a third process (as the TUI
does). Events cross the nodes through the database (LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from inbox_tui.core.models import Presence
from inbox_tui.core.store import Store
from tests.channel.fault_support import ServeProcess
from tests.channel.scenario import run_scenario
from tests.conftest import BACKENDS
from tests.support.fake_openai import FakeOpenAI


@pytest.fixture
async def two_nodes(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[ServeProcess, ServeProcess, FakeOpenAI]]:
    with FakeOpenAI() as fake:
        env = {
            **os.environ,
            "INBOX_DB_URL": database_url,
            "OPENAI_BASE_URL": fake.base_url,
            "INBOX_MODEL": "test-model",
            "INBOX_SUMMARY_TIMEOUT": "3",
        }
        nodes = await asyncio.gather(*(ServeProcess.start(env, 0, tmp_path / f"node-{n}.log") for n in "ab"))
        try:
            yield nodes[0], nodes[1], fake
        finally:
            codes = await asyncio.gather(*(node.stop() for node in nodes))
            assert codes == [0, 0], "a node did not shut down cleanly"


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", [p for p in BACKENDS if p.id == "postgresql"], indirect=True)
async def test_customer_on_node_a_agent_on_node_b(two_nodes, database_url: str) -> None:
    node_a, node_b, fake = two_nodes
    assert node_a.url != node_b.url
    store = Store(database_url)  # the teammate's own process, as the TUI is
    try:
        await run_scenario(store, fake, customer_url=node_a.url, bridge_url=node_b.url)
        await asyncio.gather(node_a.stop(), node_b.stop())
        async with store.read() as session:
            assert await session.scalar(select(func.count()).select_from(Presence)) == 0
    finally:
        await store.close()
