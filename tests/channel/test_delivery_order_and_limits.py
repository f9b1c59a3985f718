"""A customer's own message is confirmed by its ack and never echoed; new conversations
are limited per client address; frame sizes are UTF-8 bytes; idle time banks no flood."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import ClientConnection, connect

from inbox_tui.channel.rate_limit import KeyedTokenBuckets, TokenBucket
from inbox_tui.core import conversations, events
from inbox_tui.core.models import Conversation
from inbox_tui.wire import ErrorCode
from tests.channel.scenario import wait_until
from tests.conftest import both_backends


async def _frame(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def _hello(ws: ClientConnection, customer_id: str) -> dict[str, Any]:
    await ws.send(json.dumps({"type": "hello", "customer": {"id": customer_id, "locale": "en"}}))
    return await _frame(ws)


@both_backends
async def test_the_customers_own_message_never_arrives_before_its_ack(start_channel, monkeypatch) -> None:
    """The interleaving that PostgreSQL's NOTIFY makes possible, made certain: the
    message's event reaches this node's sockets before the flow that stored it returns."""
    channel = await start_channel()
    feed = channel.server.feed
    store_message = conversations.record_customer_message

    async def stored_then_announced(store, *args, **kwargs):  # type: ignore[no-untyped-def]
        stored = await store_message(store, *args, **kwargs)
        async with store.read() as session:
            logged = await events.last_id(session)
        feed.wake()

        async def announced() -> bool:
            return feed.last_id >= logged

        await wait_until(announced)
        await asyncio.sleep(0.05)  # the socket's writer has had its turn
        return stored

    monkeypatch.setattr(conversations, "record_customer_message", stored_then_announced)
    async with connect(channel.url + "/chat") as ws:
        assert (await _hello(ws, "own-echo"))["type"] == "welcome"
        acked: set[int] = set()
        for n in range(5):
            await ws.send(json.dumps({"type": "message", "text": f"opening hours {n}?", "client_id": f"m{n}"}))
            while True:
                frame = await _frame(ws)
                assert not (frame["type"] == "message" and frame["author"] == "customer"), frame
                if frame["type"] == "ack":
                    acked.add(frame["id"])
                    break
        # The bot's answers still arrive; the customer's own messages never do.
        with pytest.raises((asyncio.TimeoutError, TimeoutError)):
            while True:
                frame = await _frame(ws, timeout=1.0)
                assert frame["type"] == "message" and frame["author"] != "customer", frame
    assert len(acked) == 5


async def test_new_conversations_are_limited_per_client_address(start_channel) -> None:
    channel = await start_channel(
        new_conversations_per_minute=1.0, new_conversations_burst=3, new_conversations_limit_loopback=True
    )
    welcomes = []
    for n in range(3):
        async with connect(channel.url + "/chat") as ws:
            welcomes.append(await _hello(ws, f"c{n}"))
    assert all(w["type"] == "welcome" for w in welcomes)
    async with connect(channel.url + "/chat") as ws:
        refused = await _hello(ws, "c-too-many")
        assert refused["type"] == "error" and refused["code"] == ErrorCode.RATE_LIMITED
        # Resuming is not a new conversation: it still works, on the same socket.
        await ws.send(
            json.dumps(
                {"type": "hello", "conversation_id": welcomes[0]["conversation_id"], "token": welcomes[0]["token"]}
            )
        )
        assert (await _frame(ws))["type"] == "welcome"
    async with channel.store.read() as session:
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 3


@pytest.mark.parametrize(
    "options",
    [
        {"new_conversations_per_minute": 0.0, "new_conversations_limit_loopback": True},  # no limit
        {"new_conversations_per_minute": 1.0},  # loopback exempt by default
    ],
)
async def test_no_limit_on_new_conversations_when_off_or_from_loopback(start_channel, options) -> None:
    channel = await start_channel(new_conversations_burst=1, **options)
    for n in range(4):
        async with connect(channel.url + "/chat") as ws:
            assert (await _hello(ws, f"c{n}"))["type"] == "welcome"


def test_address_buckets_are_separate_and_forgotten_once_full() -> None:
    now = [0.0]
    buckets = KeyedTokenBuckets(1.0, 2, clock=lambda: now[0])
    assert [buckets.allow("a") for _ in range(3)] == [True, True, False]
    assert buckets.allow("b")
    now[0] += 10.0  # both refilled
    for n in range(KeyedTokenBuckets.PRUNE_EVERY):
        buckets.allow(f"one-time-{n}")
        now[0] += 10.0
    assert len(buckets) <= 10  # not the 1,002 addresses seen


async def test_the_frame_size_limit_counts_utf8_bytes_not_characters(start_channel) -> None:
    channel = await start_channel(max_frame_bytes=1024)
    async with connect(channel.url + "/chat") as ws:
        assert (await _hello(ws, "bytes"))["type"] == "welcome"
        euros = json.dumps({"type": "message", "text": "€" * 400, "client_id": "big"}, ensure_ascii=False)
        assert len(euros) < 1024 < len(euros.encode("utf-8"))  # under in characters, over in bytes
        await ws.send(euros)
        assert (await _frame(ws))["code"] == ErrorCode.TOO_LARGE
        fits = json.dumps({"type": "message", "text": "€" * 300, "client_id": "fits"}, ensure_ascii=False)
        assert len(fits.encode("utf-8")) < 1024
        await ws.send(fits)
        assert (await _frame(ws))["type"] == "ack"


def test_an_idle_bucket_holds_no_more_than_its_burst() -> None:
    now = [0.0]
    bucket = TokenBucket(rate_per_second=2.0, burst=5, clock=lambda: now[0])
    now[0] += 3600.0  # an hour idle would be 7,200 tokens if they piled up
    assert sum(bucket.allow() for _ in range(100)) == 5


async def test_an_idle_connection_then_a_flood_gets_only_the_burst(start_channel) -> None:
    channel = await start_channel(rate_limit_per_second=2.0, rate_limit_burst=3)
    async with connect(channel.url + "/chat") as ws:
        assert (await _hello(ws, "idler"))["type"] == "welcome"  # the hello takes one token
        await asyncio.sleep(3.0)  # six tokens' worth of quiet
        for n in range(20):
            await ws.send(json.dumps({"type": "message", "text": f"hours {n}?", "client_id": f"f{n}"}))
        frames = []
        with pytest.raises((asyncio.TimeoutError, TimeoutError)):
            while True:
                frames.append(await _frame(ws, timeout=1.0))
    acked = [f for f in frames if f["type"] == "ack"]
    assert 3 <= len(acked) <= 4  # the burst (and at most one token refilled meanwhile)
