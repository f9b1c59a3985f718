"""Every bad input gets its error frame: hostile nesting, unstorable text, cursors out of
range, a hello during a database outage; no traceback per bad frame in the log."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from inbox_tui.core import events
from inbox_tui.core.agents import add_agent
from inbox_tui.core.models import Contact, Conversation, Message
from inbox_tui.wire import MAX_DEPTH, ErrorCode
from tests.channel.db_proxy import DatabaseProxy
from tests.conftest import BACKENDS

DEEP = "[" * 1000 + "]" * 1000  # about 2 KB


async def _frame(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    assert isinstance(frame, dict)
    return frame


async def _hello(ws: ClientConnection, customer_id: str = "c1") -> dict[str, Any]:
    await ws.send(json.dumps({"type": "hello", "customer": {"id": customer_id, "locale": "en"}}))
    return await _frame(ws)


async def _counts(store) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    async with store.read() as session:
        return tuple(
            [
                int(await session.scalar(select(func.count()).select_from(model)))  # type: ignore[return-value]
                for model in (Contact, Conversation, Message)
            ]
        )


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_deep_nesting_is_refused_unparsed_on_chat_and_the_connection_stays(start_channel, caplog) -> None:
    caplog.set_level(logging.INFO)
    channel = await start_channel()
    async with connect(channel.url + "/chat") as ws:
        for frame in (DEEP, '{"type": "hello", "customer": ' + DEEP + "}", '{"type": "hello", "x": ' + DEEP + "}"):
            await ws.send(frame)
            error = await _frame(ws)
            assert error["type"] == "error" and error["code"] == ErrorCode.BAD_FRAME, error
            assert str(MAX_DEPTH) in error["message"]
        assert (await _hello(ws))["type"] == "welcome"
        await ws.send('{"type": "message", "client_id": "d1", "text": ' + DEEP + "}")
        error = await _frame(ws)
        assert error["code"] == ErrorCode.BAD_FRAME  # unparsed: its client_id is not read
    assert not _tracebacks(caplog)


async def test_deep_nesting_is_refused_on_the_bridge(start_channel, caplog) -> None:
    channel = await start_channel()
    _agent, token = await add_agent(channel.store, "ana", "Ana")
    async with connect(channel.url + "/bridge") as ws:
        await ws.send('{"type": "auth", "token": ' + DEEP + "}")
        assert (await _frame(ws))["code"] == "bad_frame"
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 4001
    async with connect(channel.url + "/bridge") as ws:
        await ws.send(json.dumps({"type": "auth", "token": token, "last_event_id": 0}))
        assert (await _frame(ws))["type"] == "ready"
        await ws.send(DEEP)
        while (frame := await _frame(ws))["type"] == "event":
            pass
        assert frame == {"type": "error", "code": "bad_frame", "message": frame["message"]}
        await ws.send('{"type": "ping"}')
        while (frame := await _frame(ws))["type"] == "event":
            pass
        assert frame["type"] == "pong"
    assert not _tracebacks(caplog)


@pytest.mark.parametrize("hostile", ["\\u0000", "\\ud800", "\\udfff", "a\\ud83d"])
async def test_unstorable_text_is_a_bad_frame_in_text_hello_fields_and_client_id(
    start_channel, hostile, caplog
) -> None:
    channel = await start_channel()
    before = await _counts(channel.store)
    async with connect(channel.url + "/chat") as ws:
        for hello in (
            f'{{"type": "hello", "customer": {{"id": "c{hostile}"}}}}',
            f'{{"type": "hello", "customer": {{"id": "c1", "name": "A{hostile}"}}}}',
            f'{{"type": "hello", "channel": "w{hostile}", "customer": {{"id": "c1"}}}}',
            f'{{"type": "hello", "conversation_id": "x{hostile}", "token": "t"}}',
        ):
            await ws.send(hello)
            error = await _frame(ws)
            assert error["code"] == ErrorCode.BAD_FRAME, (hello, error)
            assert "NUL" in error["message"] or "surrogate" in error["message"]
        assert await _counts(channel.store) == before
        assert (await _hello(ws))["type"] == "welcome"
        before = await _counts(channel.store)
        await ws.send(f'{{"type": "message", "text": "hi {hostile}", "client_id": "m1"}}')
        error = await _frame(ws)
        assert error["code"] == ErrorCode.BAD_FRAME and error["client_id"] == "m1"
        await ws.send(f'{{"type": "message", "text": "hi", "client_id": "m{hostile}"}}')
        error = await _frame(ws)
        assert error["code"] == ErrorCode.BAD_FRAME and "client_id" not in error
        await ws.send(json.dumps({"type": "message", "text": "opening hours?", "client_id": "ok"}))
        assert (await _frame(ws))["type"] == "ack"
    assert (await _counts(channel.store))[2] >= before[2] + 1
    assert not _tracebacks(caplog)


async def test_error_frames_echo_hostile_input_safely(start_channel) -> None:
    channel = await start_channel()
    async with connect(channel.url + "/chat") as ws:
        for kind in ("\\u0000\\u001b]52;c;aGk=\\u0007", "é" * 3000, "\\ud800"):
            await ws.send(f'{{"type": "{kind}"}}')
            raw = await asyncio.wait_for(ws.recv(), 5)
            error = json.loads(raw)
            assert error["type"] == "error" and error["code"] in (ErrorCode.UNKNOWN_TYPE, ErrorCode.BAD_FRAME)
            assert len(error["message"]) < 200
        assert (await _hello(ws))["type"] == "welcome"


async def test_last_event_id_is_checked_against_its_range_and_the_head(start_channel) -> None:
    channel = await start_channel()
    _agent, token = await add_agent(channel.store, "ana", "Ana")
    async with channel.store.read() as session:
        head = await events.last_id(session)
    assert head > 0
    for wrong in (2**63, 2**64 + 5, -1, 1.5, "12", True):
        async with connect(channel.url + "/bridge") as ws:
            await ws.send(json.dumps({"type": "auth", "token": token, "last_event_id": wrong}))
            error = await _frame(ws)
            assert error["code"] == "bad_frame", (wrong, error)
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            assert ws.close_code == 4001
    async with connect(channel.url + "/bridge") as ws:
        await ws.send(json.dumps({"type": "auth", "token": token, "last_event_id": head + 1}))
        error = await _frame(ws)
        assert error["code"] == "ahead_of_log" and error["last_event_id"] == head, error
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1008
    async with connect(channel.url + "/bridge") as ws:
        await ws.send(json.dumps({"type": "auth", "token": token, "last_event_id": head}))
        ready = await _frame(ws)
        assert ready["type"] == "ready" and ready["last_event_id"] >= head


async def test_a_flood_of_bad_frames_logs_lines_not_tracebacks(start_channel, caplog, monkeypatch) -> None:
    from inbox_tui.channel import customer_endpoint
    from inbox_tui.channel.refusal_log import RefusalLog

    monkeypatch.setattr(customer_endpoint, "refusals", RefusalLog(customer_endpoint.log))
    caplog.set_level(logging.INFO)
    channel = await start_channel(rate_limit_per_second=10_000.0, rate_limit_burst=10_000)
    async with connect(channel.url + "/chat") as ws:
        for n in range(200):
            await ws.send(DEEP if n % 2 else "{nope")
        for _ in range(200):
            assert (await _frame(ws))["type"] == "error"
    assert not _tracebacks(caplog)
    refused = [r for r in caplog.records if "refused a frame" in r.getMessage()]
    assert len(refused) == 1  # one line for 200 refusals within the interval


@pytest.mark.parametrize("database_url", [p for p in BACKENDS if p.id == "postgresql"], indirect=True)
async def test_a_hello_during_a_database_outage_is_answered_unavailable(database_url, start_channel) -> None:
    proxy = await DatabaseProxy.in_front_of(database_url)
    channel = await start_channel(database_url=proxy.url_for(database_url))
    _agent, token = await add_agent(channel.store, "ana", "Ana")
    async with connect(channel.url + "/chat") as ws:
        assert (await _hello(ws, "before"))["type"] == "welcome"
    await proxy.cut()
    try:
        async with connect(channel.url + "/chat") as ws:
            await ws.send(json.dumps({"type": "hello", "customer": {"id": "during"}}))
            answer = await _frame(ws, timeout=30)
            assert answer["type"] == "error" and answer["code"] == ErrorCode.UNAVAILABLE, answer
            async with connect(channel.url + "/bridge") as bridge:
                await bridge.send(json.dumps({"type": "auth", "token": token}))
                refused = await _frame(bridge, timeout=30)
                assert refused["code"] == "unavailable"
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(bridge.recv(), 5)
                assert bridge.close_code == 1013
            await proxy.restore()
            # The same socket, once the database is back: the hello goes through.
            for _ in range(100):
                await ws.send(json.dumps({"type": "hello", "customer": {"id": "during"}}))
                answer = await _frame(ws, timeout=30)
                if answer["type"] == "welcome":
                    break
                assert answer["code"] == ErrorCode.UNAVAILABLE
                await asyncio.sleep(0.1)
            assert answer["type"] == "welcome"
    finally:
        if proxy.port and proxy._server is None:
            await proxy.restore()
    assert (await _counts(channel.store))[1] == 2
