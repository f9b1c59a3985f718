"""``/bridge``: one agent client (the TUI) following the event log.

See ``bridge_protocol`` for the frames. After the token check the client gets every
event above the id it last saw, read from the store, then the live stream from this
node's event feed. Event ids become visible in increasing order (``core.events``), so
one cursor per connection is enough to send each event exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from inbox_tui.channel.bridge_protocol import AUTH_TIMEOUT_SECONDS, CLOSE_UNAUTHORIZED, decode_object, encode
from inbox_tui.channel.event_feed import EventFeed, LoggedEvent
from inbox_tui.channel.presence import PresenceKeeper
from inbox_tui.core import events
from inbox_tui.core.agents import authenticate
from inbox_tui.core.events import EventKind
from inbox_tui.core.records import AgentRef
from inbox_tui.runtime import Runtime

log = logging.getLogger(__name__)

REPLAY_BATCH = 1000
#: A bridge client this far behind is closed; it reconnects and replays from its cursor.
MAX_OUTBOX = 50_000
CLOSE_TOO_SLOW = 1013


class BridgeSession:
    def __init__(self, connection: ServerConnection, runtime: Runtime, feed: EventFeed,
                 presence: PresenceKeeper, on_commit: Callable[[], None]) -> None:
        self.connection = connection
        self.runtime = runtime
        self.feed = feed
        self.presence = presence
        self.on_commit = on_commit
        self.cursor = 0
        self._outbox: asyncio.Queue[LoggedEvent] = asyncio.Queue()
        self._overflowed = False
        self._agent_id: int | None = None
        self._token = ""
        self._revocation_checks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        agent, last_seen = await self._authenticate()
        if agent is None:
            return
        presence_id = await self.presence.connected(agent.id)
        self.on_commit()
        self.feed.subscribe(self._on_events)
        writer: asyncio.Task[None] | None = None
        try:
            async with self.runtime.store.read() as session:
                head = await events.last_id(session)
            if not await self._still_signed_in():
                return
            await self._send({"type": "ready", "agent": {"id": agent.id, "handle": agent.handle,
                                                         "name": agent.name},
                              "last_event_id": head})
            self.cursor = last_seen
            await self._replay()
            writer = asyncio.create_task(self._write_live(), name=f"bridge-out-{agent.handle}")
            await self._read_frames()
        except ConnectionClosed:
            pass
        finally:
            self.feed.unsubscribe(self._on_events)
            for check in self._revocation_checks:
                check.cancel()
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await writer
            await self.presence.disconnected(presence_id)
            self.on_commit()

    async def _send(self, frame: dict[str, Any]) -> None:
        await self.connection.send(encode(frame))

    async def _refuse(self, code: str, message: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self._send({"type": "error", "code": code, "message": message})
            await self.connection.close(CLOSE_UNAUTHORIZED, code)

    async def _authenticate(self) -> tuple[AgentRef | None, int]:
        try:
            # asyncio.timeout, not 3.11's wait_for, which can drop a cancel that lands with a frame.
            async with asyncio.timeout(AUTH_TIMEOUT_SECONDS):
                raw = await self.connection.recv()
        except asyncio.TimeoutError:
            await self._refuse("unauthorized", "no auth frame in time")
            return None, 0
        except ConnectionClosed:
            return None, 0
        data = decode_object(raw)
        if data is None or data.get("type") != "auth":
            await self._refuse("bad_frame", "the first frame must be {\"type\": \"auth\", \"token\": ...}")
            return None, 0
        last_seen = data.get("last_event_id") or 0
        if not isinstance(last_seen, int) or isinstance(last_seen, bool) or last_seen < 0:
            await self._refuse("bad_frame", "last_event_id must be a non-negative integer or null")
            return None, 0
        token = data.get("token")
        agent = await authenticate(self.runtime.store, token if isinstance(token, str) else None)
        if agent is None:
            await self._refuse("unauthorized", "unknown or missing token")
            return None, 0
        self._agent_id, self._token = agent.id, token  # type: ignore[assignment]
        return agent, last_seen

    # --- revoked credentials: a rotated or removed token closes its bridges at once ---

    async def _still_signed_in(self) -> bool:
        """Check the token again; close the socket if it no longer signs this teammate in.

        Run once after subscribing to the feed (a revocation committed before that is
        seen here) and on every ``agent_token_revoked`` of this teammate (one after)."""
        agent = await authenticate(self.runtime.store, self._token)
        if agent is not None and agent.id == self._agent_id:
            return True
        log.info("closing a bridge of agent %s: its token was rotated or removed", self._agent_id)
        await self._refuse("unauthorized", "the token was rotated or removed; sign in again")
        return False

    def _watch_revocations(self, batch: list[LoggedEvent]) -> None:
        for event in batch:
            if event.kind == EventKind.AGENT_TOKEN_REVOKED and event.data.get("agent_id") == self._agent_id:
                check = asyncio.create_task(self._still_signed_in())
                self._revocation_checks.add(check)
                check.add_done_callback(self._revocation_checks.discard)
                return

    async def _replay(self) -> None:
        """Everything above the client's cursor that is in the store now."""
        while True:
            async with self.runtime.store.read() as session:
                rows = await events.since(session, self.cursor, REPLAY_BATCH)
            for row in rows:
                await self.connection.send(LoggedEvent(row).bridge_frame)
                self.cursor = row.id
            if len(rows) < REPLAY_BATCH:
                return

    def _on_events(self, batch: list[LoggedEvent]) -> None:
        self._watch_revocations(batch)
        if self._overflowed:
            return
        if self._outbox.qsize() + len(batch) > MAX_OUTBOX:
            self._overflowed = True
            log.warning("a bridge client is too slow; closing it so it replays from its cursor")
            asyncio.create_task(self.connection.close(CLOSE_TOO_SLOW, "too slow; reconnect"))
            return
        for event in batch:
            self._outbox.put_nowait(event)

    async def _write_live(self) -> None:
        while True:
            event = await self._outbox.get()
            if event.id > self.cursor:  # the replay may have sent it already
                await self.connection.send(event.bridge_frame)
                self.cursor = event.id

    async def _read_frames(self) -> None:
        async for raw in self.connection:
            data = decode_object(raw)
            if data is None:
                await self._send({"type": "error", "code": "bad_frame", "message": "frames are JSON objects"})
            elif data.get("type") == "ping":
                await self._send({"type": "pong"})
            else:
                await self._send({"type": "error", "code": "unknown_type",
                                  "message": f"unknown frame type {data.get('type')!r}"})
