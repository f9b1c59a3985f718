"""Bad input on the customer endpoint: every error path gets an error frame, changes
nothing, and the server keeps serving everyone else."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from inbox_tui.channel.customer_protocol import ErrorCode
from inbox_tui.client.customer import ChatError, CustomerClient
from inbox_tui.core.models import Conversation, Message


async def _raw(url: str):  # type: ignore[no-untyped-def]
    return await connect(url + "/chat")


async def _error(connection) -> dict:  # type: ignore[no-untyped-def]
    frame = json.loads(await asyncio.wait_for(connection.recv(), 5))
    assert frame["type"] == "error", frame
    return frame


async def _count(store, model) -> int:  # type: ignore[no-untyped-def]
    async with store.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def test_bad_frames_before_hello(start_channel) -> None:
    channel = await start_channel()
    async with await _raw(channel.url) as ws:
        await ws.send("{not json")
        assert (await _error(ws))["code"] == ErrorCode.BAD_JSON
        await ws.send("[1, 2]")
        assert (await _error(ws))["code"] == ErrorCode.BAD_JSON
        await ws.send(b"\x00\x01binary")
        assert (await _error(ws))["code"] == ErrorCode.BAD_FRAME
        await ws.send(json.dumps({"type": "message", "text": "hi"}))
        assert (await _error(ws))["code"] == ErrorCode.HELLO_REQUIRED
        await ws.send(json.dumps({"type": "subscribe"}))
        assert (await _error(ws))["code"] == ErrorCode.UNKNOWN_TYPE
        await ws.send(json.dumps({"type": "hello", "channel": "web"}))
        assert (await _error(ws))["code"] == ErrorCode.BAD_FRAME
        await ws.send(json.dumps({"type": "hello", "customer": {"id": ["not", "a", "string"]}}))
        assert (await _error(ws))["code"] == ErrorCode.BAD_FRAME
        await ws.send(json.dumps({"type": "hello", "conversation_id": "x"}))  # no token
        assert (await _error(ws))["code"] == ErrorCode.BAD_FRAME
        for zone in ("Europe/" + "x" * 80, 3600):  # too long to be a zone name; not a name
            await ws.send(json.dumps({"type": "hello", "customer": {"id": "c1", "time_zone": zone}}))
            assert (await _error(ws))["code"] == ErrorCode.BAD_FRAME
        # After all that, a good hello still works on the same socket.
        await ws.send(json.dumps({"type": "hello", "customer": {"id": "c1"}}))
        welcome = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert welcome["type"] == "welcome" and welcome["history"] == []
    assert await _count(channel.store, Conversation) == 1


async def test_resume_needs_the_right_token(start_channel) -> None:
    channel = await start_channel()
    async with CustomerClient(channel.url, customer={"id": "owner", "locale": "en"}) as owner:
        await owner.send("my secret order number is 4411")
        conversation_id, token = owner.conversation_id, owner.token
    assert conversation_id and token
    for wrong in (
        {"conversation_id": conversation_id, "token": token[:-2] + "xx"},
        {"conversation_id": "00000000-0000-0000-0000-000000000000", "token": token},
    ):
        intruder = CustomerClient(channel.url, **wrong)
        with pytest.raises(ChatError) as refused:
            await intruder.connect()
        assert refused.value.code == ErrorCode.NOT_FOUND
        assert "4411" not in refused.value.message
    # The owner resumes with the token and sees the whole thread.
    again = CustomerClient(channel.url, conversation_id=conversation_id, token=token)
    welcome = await again.connect()
    assert welcome["history"][0]["text"] == "my secret order number is 4411"
    await again.close()
    assert await _count(channel.store, Conversation) == 1


async def test_bad_messages_after_hello(start_channel) -> None:
    channel = await start_channel(max_message_chars=50)
    async with CustomerClient(channel.url, customer={"id": "c1", "locale": "en"}) as chat:
        for text, code in (("   ", ErrorCode.BAD_MESSAGE), ("x" * 51, ErrorCode.BAD_MESSAGE)):
            with pytest.raises(ChatError) as refused:
                await chat.send(text, client_id=f"bad-{len(text)}")
            assert refused.value.code == code
        await chat.send_raw(json.dumps({"type": "message", "text": 42, "client_id": "n"}))
        assert (await chat.wait_for(lambda f: f["type"] == "error"))["code"] == ErrorCode.BAD_MESSAGE
        await chat.send_raw(json.dumps({"type": "message", "text": "hi", "client_id": 7}))
        assert (await chat.wait_for(lambda f: f["type"] == "error"))["code"] == ErrorCode.BAD_MESSAGE
        await chat.send_raw(json.dumps({"type": "hello", "customer": {"id": "c1"}}))
        assert (await chat.wait_for(lambda f: f["type"] == "error"))["code"] == ErrorCode.ALREADY_STARTED
        await chat.send_raw(json.dumps({"type": "typing"}))
        assert (await chat.wait_for(lambda f: f["type"] == "error"))["code"] == ErrorCode.UNKNOWN_TYPE
        await chat.send_raw("nope")
        assert (await chat.wait_for(lambda f: f["type"] == "error"))["code"] == ErrorCode.BAD_JSON
        # Still usable, and nothing was stored for the bad frames.
        await chat.send("delivery times?")
    await channel.server.wait_idle()
    async with channel.store.read() as session:
        texts = list(await session.scalars(select(Message.text).where(Message.author == "customer")))
    assert texts == ["delivery times?"]


async def test_resent_client_id_is_acknowledged_again_and_stored_once(start_channel) -> None:
    channel = await start_channel()
    async with CustomerClient(channel.url, customer={"id": "c1", "locale": "en"}) as chat:
        first = await chat.send("what are your opening hours?", client_id="same-1")
        second = await chat.send("what are your opening hours?", client_id="same-1")
        assert first == second
        await chat.wait_for(lambda f: f.get("author") == "bot")
    await channel.server.wait_idle()
    async with channel.store.read() as session:
        authors = list(await session.scalars(select(Message.author).order_by(Message.id)))
    assert authors == ["customer", "bot"]  # one message, one bot reply


async def test_oversized_frames(start_channel) -> None:
    channel = await start_channel(max_frame_bytes=1024)
    async with CustomerClient(channel.url, customer={"id": "c1", "locale": "en"}) as chat:
        big = json.dumps({"type": "message", "text": "é" * 600, "client_id": "big"})  # > 1024 bytes
        await chat.send_raw(big)
        assert (await chat.wait_for(lambda f: f["type"] == "error"))["code"] == ErrorCode.TOO_LARGE
        await chat.send("still here: opening hours?")  # the connection stays
        # Far over the limit, websockets closes the connection (1009) without reading it all.
        await chat.send_raw("x" * 1024 * 8)
        connection = chat._connection
        with pytest.raises(ChatError):
            await chat.wait_for(lambda f: False, timeout=5)
        assert connection is not None and connection.close_code == 1009
    # The server is fine: another customer chats normally.
    async with CustomerClient(channel.url, customer={"id": "c2", "locale": "en"}) as other:
        await other.send("opening hours?")
        await other.wait_for(lambda f: f.get("author") == "bot")


async def test_flood_is_rate_limited(start_channel) -> None:
    channel = await start_channel(rate_limit_per_second=2.0, rate_limit_burst=5)
    async with await _raw(channel.url) as ws:
        await ws.send(json.dumps({"type": "hello", "customer": {"id": "flooder", "locale": "en"}}))
        assert json.loads(await ws.recv())["type"] == "welcome"
        for n in range(60):
            await ws.send(json.dumps({"type": "message", "text": f"spam {n}", "client_id": f"s{n}"}))
        for _ in range(30):
            await ws.send(json.dumps({"type": "typing"}))  # not a message: reported once a second
        frames = []
        with pytest.raises((asyncio.TimeoutError, TimeoutError)):
            while True:
                frames.append(json.loads(await asyncio.wait_for(ws.recv(), 1.0)))
        acked = {f["client_id"] for f in frames if f["type"] == "ack"}
        limited = [f for f in frames if f["type"] == "error" and f["code"] == ErrorCode.RATE_LIMITED]
        dropped = {f["client_id"] for f in limited if "client_id" in f}
        assert 4 <= len(acked) <= 8  # the burst (plus what refilled meanwhile)
        assert acked | dropped == {f"s{n}" for n in range(60)} and not acked & dropped  # each one told
        assert 1 <= len([f for f in limited if "client_id" not in f]) <= 2
    await channel.server.wait_idle()
    async with channel.store.read() as session:
        stored = set(await session.scalars(select(Message.client_id).where(Message.author == "customer")))
    assert stored == acked


async def test_a_client_learns_its_message_was_dropped(start_channel) -> None:
    channel = await start_channel(rate_limit_per_second=0.5, rate_limit_burst=2)  # the hello, one message
    async with CustomerClient(channel.url, customer={"id": "quick", "locale": "en"}, ack_timeout=5) as chat:
        await chat.send("opening hours?")
        with pytest.raises(ChatError) as dropped:
            await chat.send("and delivery?")
        assert dropped.value.code == ErrorCode.RATE_LIMITED


async def test_hello_timeout_and_unknown_path(start_channel, monkeypatch) -> None:
    from inbox_tui.channel import customer_endpoint

    monkeypatch.setattr(customer_endpoint, "HELLO_TIMEOUT_SECONDS", 0.3)
    channel = await start_channel()
    async with await _raw(channel.url) as ws:
        assert (await _error(ws))["code"] == ErrorCode.HELLO_REQUIRED
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1008
    with pytest.raises(InvalidStatus) as rejected:
        await connect(channel.url + "/admin")
    assert rejected.value.response.status_code == 404
