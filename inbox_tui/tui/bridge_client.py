"""The TUI's side of the agents' bridge (``inbox_tui.channel.bridge_protocol``).

Connects, authenticates with the teammate's token, resumes from the last event id it
saw, and hands each event to a callback exactly once. When the server is down or the
socket drops it retries with exponential backoff for as long as it runs; only a refused
token stops it, because retrying cannot fix that. No Textual here: the app runs
:meth:`BridgeClient.run` in a worker and turns the callbacks into screen updates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from inbox_tui.tui.bridge_status import BridgeState, BridgeStatus
from inbox_tui.wire.bridge import (
    AUTH_TIMEOUT_SECONDS,
    BRIDGE_PATH,
    CLOSE_UNAUTHORIZED,
    Auth,
    BridgeCode,
    BridgeError,
    Event,
    EventFrame,
    Ready,
    decode_bridge_server_frame,
)
from inbox_tui.wire.codec import WireError, encode

#: How long leaving a connection waits for the server to answer our close frame.
CLOSE_TIMEOUT_SECONDS = 1.0


class BridgeRefused(Exception):
    """The server refused the token; retrying would not help."""


def bridge_url(base_url: str) -> str:
    return base_url.rstrip("/") + BRIDGE_PATH


class BridgeClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        last_event_id: int,
        on_event: Callable[[Event], None],
        on_status: Callable[[BridgeStatus], None],
        *,
        first_delay: float = 0.25,
        max_delay: float = 8.0,
    ) -> None:
        self.url = bridge_url(base_url)
        self.token = token
        self.last_event_id = last_event_id
        self.on_event = on_event
        self.on_status = on_status
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.connections = 0

    async def run(self) -> None:
        """Stay connected until cancelled (or until the token is refused)."""
        delay = self.first_delay
        self.on_status(BridgeStatus(BridgeState.CONNECTING, self.url))
        while True:
            connections_before = self.connections
            try:
                await self._session()
                reason = "the server closed the connection"
            except BridgeRefused as error:
                self.on_status(BridgeStatus(BridgeState.UNAUTHORIZED, str(error)))
                return
            except (TimeoutError, OSError, InvalidHandshake, ConnectionClosed, ValueError) as error:
                reason = _describe(error)
            except InvalidURI as error:
                self.on_status(BridgeStatus(BridgeState.UNAUTHORIZED, f"bad server URL: {error}"))
                return
            if self.connections != connections_before:
                delay = self.first_delay  # it was up: start the backoff over
            self.on_status(BridgeStatus(BridgeState.RECONNECTING, reason, retry_in=delay))
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_delay)

    async def _session(self) -> None:
        # A short close timeout: leaving the block (also on quit) waits for the server's
        # answer to our close frame, and a busy or vanished server must not hold the exit.
        async with websockets.connect(
            self.url, open_timeout=5, close_timeout=CLOSE_TIMEOUT_SECONDS, max_size=2**22
        ) as socket:
            await socket.send(encode(Auth(token=self.token, last_event_id=self.last_event_id)), text=True)
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for drops a cancel that
                # lands as the frame arrives, and the worker would then stay connected.
                async with asyncio.timeout(AUTH_TIMEOUT_SECONDS):
                    first = decode_bridge_server_frame(await socket.recv())
            except ConnectionClosed as closed:
                if closed.rcvd is not None and closed.rcvd.code == CLOSE_UNAUTHORIZED:
                    raise BridgeRefused(closed.rcvd.reason or "the server refused the token") from None
                raise
            except WireError as error:
                raise ValueError(f"the server's first frame is not one of the bridge's: {error.message}") from None
            if isinstance(first, BridgeError):
                if first.code == BridgeCode.UNAUTHORIZED:
                    raise BridgeRefused(first.message or "the server refused the token")
                if first.code == BridgeCode.AHEAD_OF_LOG and first.last_event_id is not None:
                    # The database was replaced or restored: resume from its head.
                    self.last_event_id = first.last_event_id
                raise ValueError(f"server error: {first.message}")
            if not isinstance(first, Ready):
                raise ValueError(f"unexpected first frame {first.type!r}")
            self.connections += 1
            self.on_status(BridgeStatus(BridgeState.CONNECTED, self.url))
            async for raw in socket:
                try:
                    frame = decode_bridge_server_frame(raw)
                except WireError:
                    continue  # a frame this client cannot read: skipped, the stream goes on
                if isinstance(frame, EventFrame):
                    event = frame.event
                    if event.id <= self.last_event_id:
                        continue  # a replay overlap: never show an event twice
                    self.last_event_id = event.id
                    self.on_event(event)
                elif isinstance(frame, BridgeError) and frame.code == BridgeCode.UNAUTHORIZED:
                    raise BridgeRefused(frame.message)


def _describe(error: BaseException) -> str:
    # The reason alone: the inbox's message already says the server is not reachable.
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionClosed):
        return "connection dropped"
    if isinstance(error, asyncio.TimeoutError):
        return "server not answering"
    if isinstance(error, OSError):
        return str(error.strerror or error)
    return str(error) or error.__class__.__name__
