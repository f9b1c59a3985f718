"""A minimal agent-side bridge client for the channel tests (the TUI has the real one)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from inbox_tui.channel.bridge_protocol import BRIDGE_PATH, auth_frame


class BridgeClient:
    def __init__(self, connection: ClientConnection, ready: dict[str, Any]) -> None:
        self.connection = connection
        self.ready = ready
        self.events: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, server_url: str, token: str, last_event_id: int = 0) -> BridgeClient:
        connection = await connect(server_url + BRIDGE_PATH)
        await connection.send(json.dumps(auth_frame(token, last_event_id)))
        ready = json.loads(await asyncio.wait_for(connection.recv(), 10))
        assert ready["type"] == "ready", ready
        return cls(connection, ready)

    @property
    def last_event_id(self) -> int:
        return self.events[-1]["id"] if self.events else 0

    async def next_frame(self, timeout: float = 10.0) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.connection.recv(), timeout))

    async def wait_event(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
        """Read events (keeping them all in ``events``) until one matches."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.next_frame()
                if frame["type"] != "event":
                    continue
                self.events.append(frame["event"])
                if predicate(frame["event"]):
                    return frame["event"]

    async def read_until_quiet(self, quiet: float = 0.3) -> None:
        """Keep every event that arrives until none has for ``quiet`` seconds."""
        while True:
            try:
                frame = await self.next_frame(quiet)
            except TimeoutError:
                return
            if frame["type"] == "event":
                self.events.append(frame["event"])

    async def close(self) -> None:
        await self.connection.close()
