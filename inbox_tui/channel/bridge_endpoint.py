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

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from inbox_tui.channel.event_feed import EventFeed, LoggedEvent
from inbox_tui.channel.presence import PresenceKeeper
from inbox_tui.channel.refusal_log import RefusalLog, peer_of
from inbox_tui.core import events
from inbox_tui.core.agents import authenticate
from inbox_tui.core.events import EventKind
from inbox_tui.core.records import AgentRef
from inbox_tui.runtime import Runtime
from inbox_tui.wire.bridge import (
    AUTH_TIMEOUT_SECONDS,
    CLOSE_UNAUTHORIZED,
    AgentInfo,
    Auth,
    BridgeCode,
    BridgeError,
    Ping,
    Pong,
    Ready,
    decode_bridge_client_frame,
)
from inbox_tui.wire.codec import WireError, encode
from inbox_tui.wire.frame import WireFrame

log = logging.getLogger(__name__)
refusals = RefusalLog(log)

REPLAY_BATCH = 1000
#: A bridge client this far behind is closed; it reconnects and replays from its cursor.
MAX_OUTBOX = 50_000
CLOSE_TOO_SLOW = 1013
CLOSE_TRY_LATER = 1013
CLOSE_POLICY = 1008


class BridgeSession:
    def __init__(
        self,
        connection: ServerConnection,
        runtime: Runtime,
        feed: EventFeed,
        presence: PresenceKeeper,
    ) -> None:
        self.connection = connection
        self.runtime = runtime
        self.feed = feed
        self.presence = presence
        self.cursor = 0
        self._outbox: asyncio.Queue[LoggedEvent] = asyncio.Queue()
        self._overflowed = False
        self._agent_id: int | None = None
        self._token = ""
        self._revocation_checks: set[asyncio.Task[bool]] = set()

    async def run(self) -> None:
        agent, last_seen = await self._authenticate()
        if agent is None:
            return
        head = await self._head_for(last_seen)
        if head is None:
            return
        # The store wakes the event feed after the presence row commits (its commit listener).
        presence_id = await self.presence.connected(agent.id)
        self.feed.subscribe(self._on_events)
        writer: asyncio.Task[None] | None = None
        try:
            if not await self._still_signed_in():
                return
            await self._send(
                Ready(agent=AgentInfo(id=agent.id, handle=agent.handle, name=agent.name), last_event_id=head)
            )
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

    async def _send(self, frame: WireFrame) -> None:
        await self.connection.send(encode(frame), text=True)

    async def _refuse(
        self, code: str, message: str, *, close_code: int = CLOSE_UNAUTHORIZED, head: int | None = None
    ) -> None:
        refusals.refused("/bridge", peer_of(self.connection), code, message)
        with contextlib.suppress(ConnectionClosed):
            await self._send(BridgeError(code=code, message=message, last_event_id=head))
            await self.connection.close(close_code, code)

    async def _authenticate(self) -> tuple[AgentRef | None, int]:
        try:
            # asyncio.timeout, not 3.11's wait_for, which can drop a cancel that lands with a frame.
            async with asyncio.timeout(AUTH_TIMEOUT_SECONDS):
                raw = await self.connection.recv()
        except TimeoutError:
            await self._refuse(BridgeCode.UNAUTHORIZED, "no auth frame in time")
            return None, 0
        except ConnectionClosed:
            return None, 0
        try:
            frame = decode_bridge_client_frame(raw)
        except WireError as error:
            await self._refuse(BridgeCode.BAD_FRAME, f"the first frame must be an auth frame: {error.message}")
            return None, 0
        if not isinstance(frame, Auth):
            await self._refuse(BridgeCode.BAD_FRAME, 'the first frame must be {"type": "auth", "token": ...}')
            return None, 0
        try:
            agent = await authenticate(self.runtime.store, frame.token)
        except Exception as error:  # noqa: BLE001 - the database is away: say so, the client retries
            await self._refuse(
                BridgeCode.UNAVAILABLE,
                f"cannot check the token now ({error.__class__.__name__}); reconnect later",
                close_code=CLOSE_TRY_LATER,
            )
            return None, 0
        if agent is None:
            await self._refuse(BridgeCode.UNAUTHORIZED, "unknown or missing token")
            return None, 0
        self._agent_id, self._token = agent.id, frame.token or ""
        return agent, frame.last_event_id or 0

    async def _head_for(self, last_seen: int) -> int | None:
        """The log's head, when the client's cursor is within it; None when refused."""
        try:
            async with self.runtime.store.read() as session:
                head = await events.last_id(session)
        except Exception as error:  # noqa: BLE001 - as in _authenticate
            await self._refuse(
                BridgeCode.UNAVAILABLE,
                f"cannot read the event log now ({error.__class__.__name__}); reconnect later",
                close_code=CLOSE_TRY_LATER,
            )
            return None
        if last_seen > head:
            # The database was replaced or restored: nothing above the head will come back.
            await self._refuse(
                BridgeCode.AHEAD_OF_LOG,
                f"last_event_id {last_seen} is above the event log's head {head}; resume from the head",
                close_code=CLOSE_POLICY,
                head=head,
            )
            return None
        return head

    # --- revoked credentials: a rotated or removed token closes its bridges at once ---

    async def _still_signed_in(self) -> bool:
        """Check the token again; close the socket if it no longer signs this teammate in.

        Run once after subscribing to the feed (a revocation committed before that is
        seen here) and on every ``agent_token_revoked`` of this teammate (one after)."""
        agent = await authenticate(self.runtime.store, self._token)
        if agent is not None and agent.id == self._agent_id:
            return True
        log.info("closing a bridge of agent %s: its token was rotated or removed", self._agent_id)
        await self._refuse(BridgeCode.UNAUTHORIZED, "the token was rotated or removed; sign in again")
        return False

    def _watch_revocations(self, batch: list[LoggedEvent]) -> None:
        for event in batch:
            if event.kind == EventKind.AGENT_TOKEN_REVOKED and event.event.agent_id == self._agent_id:
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
                await self.connection.send(LoggedEvent(row).bridge_frame, text=True)
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
            # Kept so the close is not collected before it runs.
            self._closing = asyncio.create_task(self.connection.close(CLOSE_TOO_SLOW, "too slow; reconnect"))
            return
        for event in batch:
            self._outbox.put_nowait(event)

    async def _write_live(self) -> None:
        while True:
            event = await self._outbox.get()
            if event.id > self.cursor:  # the replay may have sent it already
                await self.connection.send(event.bridge_frame, text=True)
                self.cursor = event.id

    async def _read_frames(self) -> None:
        async for raw in self.connection:
            try:
                frame = decode_bridge_client_frame(raw)
            except WireError as error:
                refusals.refused("/bridge", peer_of(self.connection), error.code, error.message)
                await self._send(BridgeError(code=error.code, message=error.message))
                continue
            if isinstance(frame, Ping):
                await self._send(Pong())
            else:
                await self._send(
                    BridgeError(code=BridgeCode.UNKNOWN_TYPE, message="already authenticated; only ping frames follow")
                )
