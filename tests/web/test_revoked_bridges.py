"""Rotating or removing a teammate's token closes their open bridges at once on every
node: two ``inbox-tui serve`` processes on one database, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from inbox_tui.channel.bridge_protocol import BRIDGE_PATH, CLOSE_UNAUTHORIZED, auth_frame
from inbox_tui.core.agents import add_agent, rotate_token
from inbox_tui.core.sign_in import remove_agent, start_session
from inbox_tui.core.store import Store
from tests.channel.fault_support import ServeProcess
from tests.conftest import both_backends

pytestmark = pytest.mark.slow


async def open_bridge(url: str, token: str) -> ClientConnection:
    bridge = await connect(url + BRIDGE_PATH)
    await bridge.send(json.dumps(auth_frame(token, None)))
    ready = json.loads(await bridge.recv())
    assert ready["type"] == "ready", ready
    return bridge


async def closed_for_revocation(bridge: ClientConnection, timeout: float = 10) -> float:
    """Seconds until the server closed the bridge as unauthorized (events before that are skipped)."""
    started = time.monotonic()
    frames = []
    async with asyncio.timeout(timeout):
        try:
            while True:
                frames.append(json.loads(await bridge.recv()))
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == CLOSE_UNAUTHORIZED, closed
    errors = [f for f in frames if f["type"] == "error"]
    assert errors and errors[-1]["code"] == "unauthorized" and "rotated or removed" in errors[-1]["message"]
    return time.monotonic() - started


async def still_open(bridge: ClientConnection) -> bool:
    await bridge.send(json.dumps({"type": "ping"}))
    async with asyncio.timeout(5):
        while True:
            if json.loads(await bridge.recv())["type"] == "pong":
                return True


@both_backends
async def test_rotate_and_remove_close_bridges_on_every_node(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "INBOX_DB_URL": database_url, "INBOX_AI": "offline"}
    nodes = await asyncio.gather(*(ServeProcess.start(env, 0, tmp_path / f"node-{n}.log") for n in "ab"))
    store = Store(database_url)  # the admin's own process, as `inbox-tui agents` is
    try:
        _, ana_token = await add_agent(store, "ana", "Ana")
        ben, ben_token = await add_agent(store, "ben", "Ben")
        ben_web = await start_session(store, ben.id, timedelta(hours=1))
        ana_bridges = [await open_bridge(node.url, ana_token) for node in nodes]
        ben_bridge = await open_bridge(nodes[1].url, ben_token)
        ben_tab_bridge = await open_bridge(nodes[0].url, ben_web.secret)  # a browser tab's inbox

        new_token = await rotate_token(store, "ana")
        seconds = await asyncio.gather(*(closed_for_revocation(bridge) for bridge in ana_bridges))
        print(f"\nbridges closed {max(seconds) * 1000:.0f} ms after the rotation at most")
        assert await still_open(ben_bridge) and await still_open(ben_tab_bridge)
        fresh = await open_bridge(nodes[0].url, new_token)  # the new token works and stays
        await asyncio.sleep(0.5)
        assert await still_open(fresh)

        await remove_agent(store, "ben")
        await asyncio.gather(closed_for_revocation(ben_bridge), closed_for_revocation(ben_tab_bridge))
        assert await still_open(fresh)
        await fresh.close()
    finally:
        await store.close()
        codes = await asyncio.gather(*(node.stop() for node in nodes))
        assert codes == [0, 0]
