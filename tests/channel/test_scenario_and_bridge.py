"""The whole scenario on one node (SQLite and PostgreSQL), and the agents' bridge."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from inbox_tui.channel.bridge_protocol import CLOSE_UNAUTHORIZED, auth_frame
from inbox_tui.client.customer import CustomerClient
from inbox_tui.core import events
from inbox_tui.core.agents import add_agent
from inbox_tui.core.models import Presence
from tests.channel.bridge_client import BridgeClient
from tests.channel.scenario import run_scenario, wait_until
from tests.conftest import both_backends
from tests.support.fake_openai import FakeOpenAI


@both_backends
async def test_the_whole_scenario_on_one_node(start_channel) -> None:
    with FakeOpenAI() as fake:
        channel = await start_channel(base_url=fake.base_url)
        await run_scenario(channel.store, fake, channel.url, channel.url)


async def _refused(url: str, frame: str | None) -> tuple[dict, int | None]:
    async with connect(url + "/bridge") as ws:
        if frame is not None:
            await ws.send(frame)
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        return answer, ws.close_code


async def test_bridge_refuses_wrong_or_missing_tokens(start_channel, monkeypatch) -> None:
    from inbox_tui.channel import bridge_endpoint

    monkeypatch.setattr(bridge_endpoint, "AUTH_TIMEOUT_SECONDS", 0.3)
    channel = await start_channel()
    _agent, token = await add_agent(channel.store, "ana", "Ana")
    for frame in (
        json.dumps(auth_frame(token[:-3] + "abc", 0)),
        json.dumps({"type": "auth", "last_event_id": 0}),
        json.dumps({"type": "auth", "token": 12345}),
        json.dumps(auth_frame(token, -1)),
        "not json",
        json.dumps({"type": "ping"}),
        None,  # says nothing: timed out
    ):
        answer, code = await _refused(channel.url, frame)
        assert answer["type"] == "error" and answer["code"] in ("unauthorized", "bad_frame"), frame
        assert code == CLOSE_UNAUTHORIZED
    async with channel.store.read() as session:
        assert await session.scalar(select(func.count()).select_from(Presence)) == 0


@both_backends
async def test_bridge_resumes_from_the_last_id_without_gaps_or_repeats(start_channel) -> None:
    channel = await start_channel()
    _ana, token = await add_agent(channel.store, "ana", "Ana")
    bridge = await BridgeClient.open(channel.url, token)
    async with CustomerClient(channel.url, customer={"id": "c1", "locale": "en"}) as chat:
        await chat.send("opening hours?")
        await chat.wait_for(lambda f: f.get("author") == "bot")
        await bridge.read_until_quiet()
        seen = list(bridge.events)
        await bridge.close()
        # While the agent is away: more conversation.
        for n in range(3):
            await chat.send(f"and delivery {n}?")
            await chat.wait_for(lambda f: f.get("author") == "bot")
        resumed = await BridgeClient.open(channel.url, token, last_event_id=seen[-1]["id"])
        await chat.send("last one: opening hours?")
        await chat.wait_for(lambda f: f.get("author") == "bot")
        await channel.server.wait_idle()
        await resumed.read_until_quiet(0.5)
        await resumed.close()
    async with channel.store.read() as session:
        logged = [e.id for e in await events.since(session, 0, 10_000)]
    # Presence events of the bridge itself are in the log too; after the resume point,
    # the second connection got every event once, in order.
    received = [e["id"] for e in seen] + [e["id"] for e in resumed.events]
    assert received == sorted(set(received))
    assert [i for i in logged if i > seen[-1]["id"] and i <= received[-1]] == [e["id"] for e in resumed.events]
    assert any(e["kind"] == "message" for e in resumed.events)


async def test_presence_while_a_bridge_is_connected(start_channel) -> None:
    channel = await start_channel()
    ana, token = await add_agent(channel.store, "ana", "Ana")

    async def present() -> int:
        async with channel.store.read() as session:
            return int(
                await session.scalar(select(func.count()).select_from(Presence).where(Presence.agent_id == ana.id))
            )

    bridge = await BridgeClient.open(channel.url, token)
    assert await present() == 1
    await bridge.connection.send(json.dumps({"type": "ping"}))
    assert (await _next_reply(bridge))["type"] == "pong"
    await bridge.connection.send(json.dumps({"type": "dance"}))
    assert (await _next_reply(bridge))["code"] == "unknown_type"
    await bridge.close()
    await wait_until(lambda: _equals(present(), 0))
    # A client still connected when the server stops: its row goes too.
    await BridgeClient.open(channel.url, token)
    assert await present() == 1
    await channel.server.stop()
    assert await present() == 0


async def _equals(awaitable, expected) -> bool:  # type: ignore[no-untyped-def]
    return (await awaitable) == expected


async def _next_reply(bridge: BridgeClient) -> dict:
    """The next frame that is not an event (events stream in between)."""
    while True:
        frame = await bridge.next_frame()
        if frame["type"] != "event":
            return frame
