"""Quitting the inbox never waits long on the bridge: a server that stops answering
(busy, or gone without closing the socket) must not hold the bridge worker once it is
cancelled. The server here is a bare TCP socket that does the WebSocket handshake,
says ``ready`` and then never reads again, so our close frame is never answered."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import time

from inbox_tui.tui.bridge_client import CLOSE_TIMEOUT_SECONDS, BridgeClient
from inbox_tui.tui.bridge_status import BridgeState, BridgeStatus

WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CYCLES = 2


async def _silent_server(writers: list[asyncio.StreamWriter]) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        request = await reader.readuntil(b"\r\n\r\n")
        match = re.search(rb"sec-websocket-key:\s*(\S+)", request, flags=re.IGNORECASE)
        assert match is not None
        accept = base64.b64encode(hashlib.sha1(match.group(1) + WEBSOCKET_GUID).digest())
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        ready = json.dumps(
            {"type": "ready", "agent": {"id": 1, "handle": "ana", "name": "Ana"}, "last_event_id": 0}
        ).encode()
        writer.write(bytes([0x81, len(ready)]) + ready)  # one unmasked text frame, FIN set
        await writer.drain()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def test_a_cancelled_bridge_ends_promptly_when_the_server_never_answers_the_close() -> None:
    writers: list[asyncio.StreamWriter] = []
    server = await _silent_server(writers)
    port = server.sockets[0].getsockname()[1]
    try:
        for cycle in range(CYCLES):
            connected = asyncio.Event()

            def on_status(status: BridgeStatus) -> None:
                if status.state is BridgeState.CONNECTED:
                    connected.set()

            client = BridgeClient(f"ws://127.0.0.1:{port}", "token", 0, lambda _event: None, on_status)
            running = asyncio.create_task(client.run())
            await asyncio.wait_for(connected.wait(), 5)
            started = time.monotonic()
            running.cancel()
            done, _ = await asyncio.wait({running}, timeout=CLOSE_TIMEOUT_SECONDS + 3)
            assert running in done, f"cycle {cycle}: the bridge worker still runs after its cancel"
            assert running.cancelled(), f"cycle {cycle}: the cancel was swallowed: {running!r}"
            # Correctness, not speed: the default close timeout (10 s) would fail the wait above.
            assert time.monotonic() - started < CLOSE_TIMEOUT_SECONDS + 3
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()
