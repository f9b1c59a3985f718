"""A teammate's bridge resumed across two server nodes, exactly once: two ``inbox-tui
serve`` processes on one database; the bridge follows node A while customers write and
the nodes' bots answer; the node it is on is stopped (kill -9 and SIGTERM in turn) at a
random point, and the bridge resumes on the other node from the last event id it saw,
while the stopped node comes back on its port. At the end the bridge has seen every
event of the log once, in order: nothing skipped at a switch, nothing twice.

On SQLite (one file, two processes) and PostgreSQL (events cross through LISTEN/NOTIFY).
``INBOX_FAULT_BRIDGE_RESTARTS`` runs more switches by hand; the figures are printed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
from itertools import pairwise
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from inbox_tui.core import conversations, owed_replies
from inbox_tui.core.agents import add_agent
from inbox_tui.core.store import Store
from tests.channel.bridge_client import BridgeClient
from tests.channel.fault_support import ServeProcess, fault_seed, free_port, loop_size
from tests.conftest import both_backends
from tests.core.helpers import events_after, last_event_id

RESTARTS = loop_size("BRIDGE_RESTARTS", 2)
CUSTOMERS = 3
LEASE_SECONDS = 1.0
CATCH_UP_DEADLINE = 60.0  # a guard against a hang, not a timed assertion


async def _follow(bridge: BridgeClient, seen: list[int]) -> None:
    """Keep the id of every event the bridge delivers, until its node goes away."""
    with contextlib.suppress(ConnectionClosed):
        while True:
            frame = json.loads(await bridge.connection.recv())
            if frame["type"] == "event":
                seen.append(frame["event"]["id"])


async def _customers_write(store: Store, conversation_ids: list[int], rng: random.Random, stop: asyncio.Event) -> int:
    """Customers' lines, stored as the channel stores them; the nodes' bots owe answers."""
    written = 0
    while not stop.is_set():
        await conversations.record_customer_message(store, rng.choice(conversation_ids), f"question {written}")
        written += 1
        await asyncio.sleep(rng.uniform(0.01, 0.1))
    return written


async def _logged_after(store: Store, start: int) -> list[int]:
    """Every event id after ``start`` (read a page at a time, as a client does)."""
    ids: list[int] = []
    while batch := await events_after(store, ids[-1] if ids else start):
        ids += [event.id for event in batch]
    return ids


@both_backends
@pytest.mark.slow
async def test_a_bridge_resumed_on_the_other_node_sees_every_event_once(database_url: str, tmp_path: Path) -> None:
    seed = fault_seed()
    rng = random.Random(seed)
    config_dir = Path(os.environ["INBOX_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f"[bot]\nreply_lease_seconds = {LEASE_SECONDS}\n", encoding="utf-8")
    env = {**os.environ, "INBOX_DB_URL": database_url, "INBOX_AI": "offline"}
    ports = [free_port(), free_port()]
    logs = [tmp_path / "node-a.log", tmp_path / "node-b.log"]
    store = Store(database_url)
    nodes = list(await asyncio.gather(*(ServeProcess.start(env, p, log) for p, log in zip(ports, logs, strict=True))))
    seen: list[int] = []
    exits: list[int] = []
    bridge: BridgeClient | None = None
    try:
        _agent, token = await add_agent(store, "ana", "Ana")
        chats = [
            (await conversations.start_conversation(store, channel="web", customer_id=f"c{n}")).conversation.id
            for n in range(CUSTOMERS)
        ]
        start = await last_event_id(store)
        on = 0  # the node the bridge follows
        bridge = await BridgeClient.open(nodes[on].url, token, last_event_id=start)
        following = asyncio.create_task(_follow(bridge, seen))
        stop_writing = asyncio.Event()
        writing = asyncio.create_task(_customers_write(store, chats, rng, stop_writing))
        stops = [signal.SIGKILL if n % 2 == 0 else signal.SIGTERM for n in range(RESTARTS)]
        for stop_signal in stops:
            await asyncio.sleep(rng.uniform(0.3, 1.5))  # a random point while events flow
            exits.append(await nodes[on].stop(stop_signal))
            await following  # the bridge's socket is gone with its node
            await bridge.close()
            other = 1 - on
            bridge = await BridgeClient.open(nodes[other].url, token, last_event_id=seen[-1] if seen else start)
            following = asyncio.create_task(_follow(bridge, seen))
            nodes[on] = await ServeProcess.start(env, ports[on], logs[on])
            on = other
        stop_writing.set()
        written = await writing
        # Every line answered by the bots, and the bridge caught up with the log's head.
        async with asyncio.timeout(CATCH_UP_DEADLINE):
            while await owed_replies.pending(store) or (seen[-1] if seen else start) < await last_event_id(store):
                await asyncio.sleep(0.1)
        await bridge.close()
        await following
        # Up to the last id it saw: closing the bridge may log an event (presence) after it.
        logged = [event_id for event_id in await _logged_after(store, start) if event_id <= seen[-1]]
    finally:
        if bridge is not None:
            await bridge.close()
        exits += await asyncio.gather(*(node.stop() for node in nodes))
        await store.close()
    twice = len(seen) - len(set(seen))
    missed = len(set(logged) - set(seen))
    print(
        f"\nbridge switched nodes {RESTARTS} times ({database_url.split(':')[0]}, seed {seed}): {written} customer "
        f"lines, {len(logged)} events logged, {len(seen)} delivered; missed {missed}, twice {twice}, "
        f"out of order {sum(1 for a, b in pairwise(seen) if b <= a)}; exit codes {exits}"
    )
    assert exits == [-s if s == signal.SIGKILL else 0 for s in stops] + [0, 0], f"see {logs}"
    assert seen == logged  # every event once, in order, across every switch
