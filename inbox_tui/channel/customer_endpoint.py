"""``/chat``: one customer connection, from hello to goodbye.

Everything the customer sees after the welcome comes from the committed event log
(through the node's event feed), so nothing is shown that is not stored. A message
reaches each connection once: the welcome's history and the live stream are merged by
message id. Agent, bot and system messages a socket took are marked delivered; the
others wait in the store and arrive with the history on the next connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from inbox_tui.channel.bot import BotLoop
from inbox_tui.channel.customer_protocol import (
    HELLO_TIMEOUT_SECONDS,
    MAX_CLIENT_ID_CHARS,
    ErrorCode,
    FrameError,
    Hello,
    encode,
    error_frame,
    mode_of,
    parse_frame,
    parse_hello,
    parse_message,
    record_frame,
)
from inbox_tui.channel.delivery import DeliveryMarker
from inbox_tui.channel.event_feed import LoggedEvent
from inbox_tui.channel.rate_limit import TokenBucket
from inbox_tui.core import conversations
from inbox_tui.core.events import EventKind
from inbox_tui.core.models import Author
from inbox_tui.core.records import ConversationRow
from inbox_tui.core.store import NotFound, StoreError
from inbox_tui.runtime import Runtime

log = logging.getLogger(__name__)

#: A customer socket that falls this far behind is closed; the customer resumes with
#: the token and gets everything from the store.
MAX_OUTBOX = 10_000
RATE_ERROR_EVERY_SECONDS = 1.0


class CustomerHub:
    """The customer connections on this node, by conversation, fed by the event feed."""

    def __init__(self) -> None:
        self._sessions: dict[int, set[CustomerSession]] = {}

    def add(self, session: CustomerSession) -> None:
        self._sessions.setdefault(session.conversation_id, set()).add(session)

    def remove(self, session: CustomerSession) -> None:
        sessions = self._sessions.get(session.conversation_id)
        if sessions is not None:
            sessions.discard(session)
            if not sessions:
                del self._sessions[session.conversation_id]

    def __len__(self) -> int:
        return sum(len(s) for s in self._sessions.values())

    def on_events(self, batch: list[LoggedEvent]) -> None:
        for event in batch:
            sessions = self._sessions.get(event.conversation_id) if event.conversation_id else None
            if sessions:
                for session in list(sessions):
                    session.on_event(event)


def frame_size(raw: str | bytes) -> int:
    if isinstance(raw, bytes) or raw.isascii():
        return len(raw)
    return len(raw.encode("utf-8"))


class CustomerSession:
    def __init__(self, connection: ServerConnection, runtime: Runtime, hub: CustomerHub,
                 bot: BotLoop, marker: DeliveryMarker, on_commit: Callable[[], None]) -> None:
        self.connection = connection
        self.runtime = runtime
        self.hub = hub
        self.bot = bot
        self.marker = marker
        self.on_commit = on_commit
        server = runtime.settings.server
        self.bucket = TokenBucket(server.rate_limit_per_second, server.rate_limit_burst)
        self.max_frame_bytes = server.max_frame_bytes
        self.max_chars = server.max_message_chars
        self.conversation_id = 0
        self.language: str | None = None
        self.mode = "bot"
        self._sent: set[int] = set()
        self._outbox: asyncio.Queue[LoggedEvent] = asyncio.Queue()
        self._last_rate_error = 0.0
        self._overflowed = False

    # -- the connection ---------------------------------------------------------------

    async def run(self) -> None:
        writer: asyncio.Task[None] | None = None
        try:
            conversation = await self._greet()
            if conversation is None:
                return
            writer = asyncio.create_task(self._write_events(), name=f"chat-out-{conversation.id}")
            while True:
                data = await self._next_frame()
                if data is None:
                    continue
                try:
                    await self._handle(data)
                except FrameError as error:
                    await self._send(error_frame(error.code, error.message, error.client_id))
        except ConnectionClosed:
            pass
        finally:
            if self.conversation_id:
                self.hub.remove(self)
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await writer

    async def _send(self, frame: dict[str, Any]) -> None:
        await self.connection.send(encode(frame))

    async def _next_frame(self) -> dict[str, Any] | None:
        """The next frame as a JSON object, or None when it was answered with an error."""
        raw = await self.connection.recv()
        if not self.bucket.allow():
            await self._refuse_flood(raw)
            return None
        try:
            if frame_size(raw) > self.max_frame_bytes:
                raise FrameError(ErrorCode.TOO_LARGE, f"a frame may have at most {self.max_frame_bytes} bytes")
            return parse_frame(raw)
        except FrameError as error:
            await self._send(error_frame(error.code, error.message))
            return None

    async def _refuse_flood(self, raw: str | bytes) -> None:
        """A dropped message is named, so its sender knows to send it again later; other
        dropped frames are reported at most once a second."""
        client_id = None
        if isinstance(raw, str) and frame_size(raw) <= self.max_frame_bytes:
            with contextlib.suppress(FrameError):
                data = parse_frame(raw)
                if data["type"] == "message" and isinstance(data.get("client_id"), str):
                    client_id = data["client_id"][:MAX_CLIENT_ID_CHARS]
        now = time.monotonic()
        if client_id is None:
            if now - self._last_rate_error < RATE_ERROR_EVERY_SECONDS:
                return
            self._last_rate_error = now
        await self._send(error_frame(ErrorCode.RATE_LIMITED,
                                     "too many frames; slow down (this one was not stored)", client_id))

    # -- hello ------------------------------------------------------------------------

    async def _greet(self) -> ConversationRow | None:
        """Wait for a valid hello, then send the welcome with the full history."""
        deadline = asyncio.get_running_loop().time() + HELLO_TIMEOUT_SECONDS
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                async with asyncio.timeout(max(remaining, 0.001)):  # keeps a cancel (see bridge_endpoint)
                    data = await self._next_frame()
            except asyncio.TimeoutError:
                await self._send(error_frame(ErrorCode.HELLO_REQUIRED, "no hello in time; goodbye"))
                await self.connection.close(1008, "no hello")
                return None
            if data is None:
                continue
            try:
                if data["type"] == "message":
                    raise FrameError(ErrorCode.HELLO_REQUIRED, "send a hello first")
                if data["type"] != "hello":
                    raise FrameError(ErrorCode.UNKNOWN_TYPE, f"unknown frame type {data['type']!r}")
                hello = parse_hello(data)
                conversation, token = await self._open(hello)
            except FrameError as error:
                await self._send(error_frame(error.code, error.message))
                continue
            await self._welcome(conversation, token)
            return conversation

    async def _open(self, hello: Hello) -> tuple[ConversationRow, str]:
        store = self.runtime.store
        try:
            if hello.resumes:
                assert hello.conversation_id is not None and hello.token is not None
                return await conversations.resume_conversation(store, hello.conversation_id, hello.token), hello.token
            started = await conversations.start_conversation(
                store, channel=hello.channel, customer_id=hello.customer_id, name=hello.name,
                email=hello.email, locale=hello.locale)
        except NotFound as error:
            raise FrameError(ErrorCode.NOT_FOUND, str(error)) from None
        except StoreError as error:
            raise FrameError(ErrorCode.REJECTED, str(error)) from None
        self.on_commit()
        return started.conversation, started.token

    async def _welcome(self, conversation: ConversationRow, token: str) -> None:
        self.conversation_id = conversation.id
        self.language = conversation.language
        # Listen before reading the history, so nothing committed in between is missed;
        # the id set drops what the history already holds.
        self.hub.add(self)
        async with self.runtime.store.read() as session:
            current = await conversations.get_conversation(session, conversation.id)
            history = await conversations.transcript(session, conversation.id)
        queued = await conversations.undelivered_messages(self.runtime.store, conversation.id)
        self.mode = mode_of(current.ai_enabled)
        self._sent.update(m.id for m in history)
        await self._send({
            "type": "welcome", "conversation_id": conversation.public_id, "token": token,
            "mode": self.mode, "history": [record_frame(m) for m in history],
        })
        self.marker.delivered([m.id for m in queued if m.id in self._sent])

    # -- frames after the welcome --------------------------------------------------------

    async def _handle(self, data: dict[str, Any]) -> None:
        kind = data["type"]
        if kind == "hello":
            raise FrameError(ErrorCode.ALREADY_STARTED, "this connection has its conversation already")
        if kind != "message":
            raise FrameError(ErrorCode.UNKNOWN_TYPE, f"unknown frame type {kind!r}")
        message = parse_message(data, self.max_chars)
        language = None
        if self.language is None:
            language = await asyncio.to_thread(self.runtime.ai.detect_language, message.text)
        try:
            stored = await conversations.record_customer_message(
                self.runtime.store, self.conversation_id, message.text,
                client_id=message.client_id, language=language)
        except StoreError as error:
            raise FrameError(ErrorCode.REJECTED, str(error), message.client_id) from None
        except Exception:  # noqa: BLE001 - the database is down or busy: say so, keep the socket
            log.exception("storing a customer message failed")
            raise FrameError(ErrorCode.UNAVAILABLE, "the message could not be stored; send it again",
                             message.client_id) from None
        if language:
            self.language = language
        # The ack stands for the message on this socket; other sockets of the thread get it.
        self._sent.add(stored.message.id)
        await self._send({"type": "ack", "client_id": message.client_id, "id": stored.message.id,
                          "at": stored.message.created_at.isoformat()})
        if stored.created:
            # No nudge of the event feed here: the bot's reply follows within
            # milliseconds and its nudge fetches both events in one read (when the AI is
            # paused, the next poll or NOTIFY brings the message to the agents).
            self.bot.customer_message(self.conversation_id, stored.message.id, message.text,
                                      ai_seems_on=self.mode == "bot", language=self.language)

    # -- the live stream ----------------------------------------------------------------

    def on_event(self, event: LoggedEvent) -> None:
        if self._overflowed:
            return
        if self._outbox.qsize() >= MAX_OUTBOX:
            self._overflowed = True
            log.warning("customer socket of conversation %s is too slow; closing it", self.conversation_id)
            asyncio.create_task(self.connection.close(1013, "too slow; resume with your token"))
            return
        self._outbox.put_nowait(event)

    async def _write_events(self) -> None:
        while True:
            event = await self._outbox.get()
            try:
                frame = self._frame_for(event)
            except Exception:  # noqa: BLE001 - one odd event must not silence the socket
                log.exception("cannot turn event %s into a customer frame", event.id)
                continue
            if frame is not None:
                await self._send(frame)
                if frame["type"] == "message" and frame["author"] != Author.CUSTOMER:
                    self.marker.delivered((frame["id"],))

    def _frame_for(self, event: LoggedEvent) -> dict[str, Any] | None:
        if event.kind == EventKind.MESSAGE:
            payload = event.payload
            message_id = payload.get("message_id")
            # Internal notes are never messages; this guards the author list all the same.
            if payload.get("author") not in Author.CUSTOMER_VISIBLE or message_id in self._sent:
                return None
            self._sent.add(message_id)
            return {"type": "message", "id": message_id, "author": payload["author"],
                    "name": payload.get("name") or "", "text": payload.get("text") or "",
                    "at": event.data["at"]}
        if event.kind in (EventKind.ESCALATED, EventKind.AI_RESUMED):
            mode = "human" if event.kind == EventKind.ESCALATED else "bot"
            if mode != self.mode:
                self.mode = mode
                return {"type": "mode", "mode": mode}
        return None
