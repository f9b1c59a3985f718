"""``/chat``: one customer connection, from hello to goodbye.

Everything the customer sees after the welcome comes from the committed event log
(through the node's event feed), so nothing is shown that is not stored. A message
reaches each connection once: the welcome's history and the live stream are merged by
message id. The customer's own message is confirmed by its ack, never echoed: the log
may bring its event (PostgreSQL's NOTIFY wakes the feed at commit) before the ack is
sent, so the live stream waits while a message is being stored. Agent, bot and system
messages a socket took are marked delivered; the others wait in the store and arrive
with the history on the next connect.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from inbox_tui.channel.bot import BotLoop
from inbox_tui.channel.customer_protocol import (
    HELLO_TIMEOUT_SECONDS,
    ErrorCode,
    FrameError,
    channel_of,
    check_hello,
    check_message,
    error_frame,
    mode_of,
    read_frame,
    record_frame,
)
from inbox_tui.channel.delivery import DeliveryMarker
from inbox_tui.channel.event_feed import LoggedEvent
from inbox_tui.channel.outbox import Outbox
from inbox_tui.channel.rate_limit import KeyedTokenBuckets, TokenBucket
from inbox_tui.channel.refusal_log import RefusalLog, peer_of
from inbox_tui.core import conversations
from inbox_tui.core.events import EventKind
from inbox_tui.core.models import Author
from inbox_tui.core.records import ConversationRow
from inbox_tui.core.store import NotFound, StoreError
from inbox_tui.runtime import Runtime
from inbox_tui.settings import ServerSettings
from inbox_tui.wire.codec import encode
from inbox_tui.wire.customer import Ack, ChatMessage, CustomerFrame, Hello, ModeChange, SendMessage, Welcome
from inbox_tui.wire.frame import WireFrame

log = logging.getLogger(__name__)
refusals = RefusalLog(log)
#: The database being away is worth a warning (still one line per interval, not per frame).
outages = RefusalLog(log, level=logging.WARNING)

#: A customer socket that falls this far behind is closed; the customer resumes with
#: the token and gets everything from the store.
MAX_OUTBOX = 10_000
RATE_ERROR_EVERY_SECONDS = 1.0


class CustomerHub:
    """The customer connections on this node, by conversation, fed by the event feed."""

    def __init__(self) -> None:
        self._sessions: dict[int, set[CustomerSession]] = {}
        self._new_conversations: KeyedTokenBuckets | None = None

    def allow_new_conversation(self, address: str, settings: ServerSettings) -> bool:
        """Whether this client address may start another conversation now (each start
        writes a contact and a conversation, so it is limited per address, not per socket).
        Loopback is exempt unless configured: everything behind a proxy on this host, the
        demo's customers and load generators all come from there."""
        if not settings.new_conversations_limit_loopback and _is_loopback(address):
            return True
        if self._new_conversations is None:
            self._new_conversations = KeyedTokenBuckets(
                settings.new_conversations_per_minute / 60.0, settings.new_conversations_burst
            )
        return self._new_conversations.allow(address)

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


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def frame_size(raw: str | bytes) -> int:
    if isinstance(raw, bytes) or raw.isascii():
        return len(raw)
    return len(raw.encode("utf-8"))


class CustomerSession:
    # Slots: one of these per idle customer socket, ten thousand of them on a node.
    __slots__ = (
        "_closing",
        "_last_rate_error",
        "_outbox",
        "_overflowed",
        "_sent",
        "_storing",
        "bot",
        "bucket",
        "connection",
        "conversation_id",
        "hub",
        "language",
        "marker",
        "max_chars",
        "max_frame_bytes",
        "mode",
        "peer",
        "runtime",
    )

    def __init__(
        self,
        connection: ServerConnection,
        runtime: Runtime,
        hub: CustomerHub,
        bot: BotLoop,
        marker: DeliveryMarker,
    ) -> None:
        self.connection = connection
        self.runtime = runtime
        self.hub = hub
        self.bot = bot
        self.marker = marker
        server = runtime.settings.server
        self.bucket = TokenBucket(server.rate_limit_per_second, server.rate_limit_burst)
        self.max_frame_bytes = server.max_frame_bytes
        self.max_chars = server.max_message_chars
        self.peer = peer_of(connection)
        self.conversation_id = 0
        self.language: str | None = None
        self.mode = "bot"
        self._sent: set[int] = set()
        self._outbox: Outbox[LoggedEvent] = Outbox()
        #: Held from storing a customer message until its ack is sent (see the module doc).
        self._storing = asyncio.Lock()
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
                frame = await self._next_frame()
                if frame is None:
                    continue
                try:
                    await self._handle(frame)
                except FrameError as error:
                    await self._refuse(error)
        except ConnectionClosed:
            pass
        finally:
            if self.conversation_id:
                self.hub.remove(self)
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await writer

    async def _send(self, frame: WireFrame) -> None:
        await self.connection.send(encode(frame), text=True)

    async def _refuse(self, error: FrameError) -> None:
        if error.code != ErrorCode.UNAVAILABLE:
            refusals.refused("/chat", self.peer, error.code, error.message)
        await self._send(error_frame(error.code, error.message, error.client_id))

    async def _next_frame(self) -> CustomerFrame | None:
        """The next frame, or None when it was answered with an error."""
        raw = await self.connection.recv()
        if not self.bucket.allow():
            await self._refuse_flood(raw)
            return None
        try:
            if frame_size(raw) > self.max_frame_bytes:
                raise FrameError(ErrorCode.TOO_LARGE, f"a frame may have at most {self.max_frame_bytes} bytes")
            return read_frame(raw)
        except FrameError as error:
            await self._refuse(error)
            return None

    async def _refuse_flood(self, raw: str | bytes) -> None:
        """A dropped message is named, so its sender knows to send it again later; other
        dropped frames are reported at most once a second."""
        client_id = None
        if isinstance(raw, str) and frame_size(raw) <= self.max_frame_bytes:
            try:
                frame = read_frame(raw)
            except FrameError as error:
                client_id = error.client_id
            else:
                client_id = frame.client_id if isinstance(frame, SendMessage) else None
        now = time.monotonic()
        if client_id is None:
            if now - self._last_rate_error < RATE_ERROR_EVERY_SECONDS:
                return
            self._last_rate_error = now
        await self._send(
            error_frame(ErrorCode.RATE_LIMITED, "too many frames; slow down (this one was not stored)", client_id)
        )

    # -- hello ------------------------------------------------------------------------

    async def _greet(self) -> ConversationRow | None:
        """Wait for a valid hello, then send the welcome with the full history."""
        deadline = asyncio.get_running_loop().time() + HELLO_TIMEOUT_SECONDS
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                async with asyncio.timeout(max(remaining, 0.001)):  # keeps a cancel (see bridge_endpoint)
                    frame = await self._next_frame()
            except TimeoutError:
                await self._send(error_frame(ErrorCode.HELLO_REQUIRED, "no hello in time; goodbye"))
                await self.connection.close(1008, "no hello")
                return None
            if frame is None:
                continue
            try:
                if not isinstance(frame, Hello):
                    raise FrameError(ErrorCode.HELLO_REQUIRED, "send a hello first")
                conversation, token = await self._open(check_hello(frame))
                await self._welcome(conversation, token)
            except FrameError as error:
                await self._refuse(error)
                continue
            return conversation

    async def _open(self, hello: Hello) -> tuple[ConversationRow, str]:
        store = self.runtime.store
        try:
            if hello.resumes:
                assert hello.conversation_id is not None and hello.token is not None
                return await conversations.resume_conversation(store, hello.conversation_id, hello.token), hello.token
            assert hello.customer is not None
            if not self.hub.allow_new_conversation(self.peer, self.runtime.settings.server):
                raise FrameError(
                    ErrorCode.RATE_LIMITED,
                    "too many new conversations from this address; resume one with its token or try again later",
                )
            customer = hello.customer
            started = await conversations.start_conversation(
                store,
                channel=channel_of(hello),
                customer_id=customer.id,
                name=customer.name or "",
                email=customer.email,
                locale=customer.locale,
                time_zone=customer.time_zone,
            )
        except NotFound as error:
            raise FrameError(ErrorCode.NOT_FOUND, str(error)) from None
        except StoreError as error:
            raise FrameError(ErrorCode.REJECTED, str(error)) from None
        except FrameError:
            raise
        except Exception as error:  # noqa: BLE001 - the database is down or busy: say so, keep the socket
            raise self._unavailable(
                "starting a conversation", error, "the conversation could not be opened now; send the hello again"
            ) from None
        return started.conversation, started.token

    def _unavailable(self, doing: str, error: Exception, message: str, client_id: str | None = None) -> FrameError:
        outages.refused("/chat", self.peer, ErrorCode.UNAVAILABLE, f"{doing} failed: {error!r}")
        return FrameError(ErrorCode.UNAVAILABLE, message, client_id)

    async def _welcome(self, conversation: ConversationRow, token: str) -> None:
        self.conversation_id = conversation.id
        self.language = conversation.language
        # Listen before reading the history, so nothing committed in between is missed;
        # the id set drops what the history already holds.
        self.hub.add(self)
        try:
            async with self.runtime.store.read() as session:
                current = await conversations.get_conversation(session, conversation.id)
                history = await conversations.transcript(session, conversation.id)
            queued = await conversations.undelivered_messages(self.runtime.store, conversation.id)
        except Exception as error:  # noqa: BLE001 - the database went away: the client resumes later
            self.hub.remove(self)
            self.conversation_id = 0
            raise self._unavailable(
                "reading the history", error, "the conversation could not be opened now; resume it with its token"
            ) from None
        self.mode = mode_of(current.ai_enabled)
        self._sent.update(m.id for m in history)
        await self._send(
            Welcome(
                conversation_id=conversation.public_id,
                token=token,
                mode=self.mode,
                history=[record_frame(m) for m in history],
            )
        )
        self.marker.delivered([m.id for m in queued if m.id in self._sent])

    # -- frames after the welcome --------------------------------------------------------

    async def _handle(self, frame: CustomerFrame) -> None:
        if isinstance(frame, Hello):
            raise FrameError(ErrorCode.ALREADY_STARTED, "this connection has its conversation already")
        message = check_message(frame, self.max_chars)
        language = None
        if self.language is None:
            language = await asyncio.to_thread(self.runtime.ai.detect_language, message.text)
        async with self._storing:
            try:
                stored = await conversations.record_customer_message(
                    self.runtime.store,
                    self.conversation_id,
                    message.text,
                    client_id=message.client_id,
                    language=language,
                )
            except StoreError as error:
                raise FrameError(ErrorCode.REJECTED, str(error), message.client_id) from None
            except Exception as error:  # noqa: BLE001 - the database is down or busy: say so, keep the socket
                raise self._unavailable(
                    "storing a customer message",
                    error,
                    "the message could not be stored; send it again",
                    message.client_id,
                ) from None
            # The ack stands for the message on this socket; other sockets of the thread get it.
            self._sent.add(stored.message.id)
            await self._send(
                Ack(client_id=message.client_id, id=stored.message.id, at=stored.message.created_at.isoformat())
            )
        if language:
            self.language = language
        if stored.created:
            self.bot.customer_message(
                self.conversation_id,
                stored.message.id,
                message.text,
                ai_seems_on=self.mode == "bot",
                language=self.language,
            )

    # -- the live stream ----------------------------------------------------------------

    def on_event(self, event: LoggedEvent) -> None:
        if self._overflowed:
            return
        if self._outbox.qsize() >= MAX_OUTBOX:
            self._overflowed = True
            log.warning("customer socket of conversation %s is too slow; closing it", self.conversation_id)
            # Kept so the close is not collected before it runs.
            self._closing = asyncio.create_task(self.connection.close(1013, "too slow; resume with your token"))
            return
        self._outbox.put_nowait(event)

    async def _write_events(self) -> None:
        while True:
            event = await self._outbox.get()
            if event.kind == EventKind.MESSAGE and event.payload.get("author") == Author.CUSTOMER:
                # Wait for a message being stored on this socket: its ack comes first and
                # marks it sent, so it is not echoed.
                async with self._storing:
                    pass
            try:
                frame = self._frame_for(event)
            except Exception:
                log.exception("cannot turn event %s into a customer frame", event.id)
                continue
            if frame is not None:
                await self._send(frame)
                if isinstance(frame, ChatMessage) and frame.author != Author.CUSTOMER:
                    self.marker.delivered((frame.id,))

    def _frame_for(self, event: LoggedEvent) -> WireFrame | None:
        if event.kind == EventKind.MESSAGE:
            payload = event.payload
            message_id = payload.get("message_id")
            # Internal notes are never messages; this guards the author list all the same.
            if (
                payload.get("author") not in Author.CUSTOMER_VISIBLE
                or not isinstance(message_id, int)
                or message_id in self._sent
            ):
                return None
            self._sent.add(message_id)
            return ChatMessage(
                id=message_id,
                author=payload["author"],
                name=payload.get("name") or "",
                text=payload.get("text") or "",
                at=event.at,
            )
        if event.kind in (EventKind.ESCALATED, EventKind.AI_RESUMED):
            mode = "human" if event.kind == EventKind.ESCALATED else "bot"
            if mode != self.mode:
                self.mode = mode
                return ModeChange(mode=mode)
        return None
