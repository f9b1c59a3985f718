"""The customer client: the one implementation of the customer protocol's client side.

Used by the load generator, the demo's simulated customers and ``inbox-tui chat``::

    async with CustomerClient("ws://127.0.0.1:8765", customer={"id": "c1", "name": "Ana"}) as chat:
        await chat.send("Hola, ¿cuánto cuesta el envío?")    # waits for the ack
        reply = await chat.wait_for(lambda f: isinstance(f, ChatMessage) and f.author == "bot")
        async for frame in chat:                              # messages, modes, errors
            ...

Frames are the typed frames of ``inbox_tui.wire.customer`` (decoded and checked on
arrival; a frame the client cannot read is skipped, never raised); they also read like
their JSON (``frame["text"]``, ``frame.get("author")``).

After a dropped connection, ``await chat.reconnect()`` resumes the same conversation
with its token; ``messages`` then holds the whole thread, each message once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from inbox_tui.wire.codec import WireError, encode
from inbox_tui.wire.customer import (
    CHAT_PATH,
    Ack,
    ChatMessage,
    Customer,
    ErrorFrame,
    Hello,
    ModeChange,
    SendMessage,
    ServerFrame,
    Welcome,
    decode_server_frame,
)

log = logging.getLogger(__name__)

Frame = ServerFrame


class ChatError(Exception):
    """The server refused something (an ``error`` frame), or the connection is gone."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class CustomerClient:
    def __init__(
        self,
        url: str,
        *,
        channel: str = "web",
        customer: dict[str, Any] | None = None,
        conversation_id: str | None = None,
        token: str | None = None,
        ack_timeout: float = 10.0,
    ) -> None:
        """``url`` is the server (``ws://host:port``) or its ``/chat`` endpoint."""
        self.url = url if url.rstrip("/").endswith(CHAT_PATH) else url.rstrip("/") + CHAT_PATH
        self.channel = channel
        self.customer = customer or {"id": uuid.uuid4().hex}
        self.conversation_id = conversation_id
        self.token = token
        self.ack_timeout = ack_timeout
        self.mode = "bot"
        #: The thread as this client has seen it: message id → message frame.
        self.messages: dict[int, ChatMessage] = {}
        self.history: list[ChatMessage] = []
        self._connection: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._frames: asyncio.Queue[Frame | None] = asyncio.Queue()
        self._acks: dict[str, asyncio.Future[Ack]] = {}

    # -- connecting -------------------------------------------------------------------

    async def __aenter__(self) -> CustomerClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        return self._reader is not None and not self._reader.done()

    async def connect(self, *, open_timeout: float = 10.0) -> Welcome:
        """Open the socket, say hello (resuming when we have a token), return the welcome."""
        connection = await connect(self.url, open_timeout=open_timeout, compression=None, max_size=8 * 2**20)
        try:
            hello = Hello(
                channel=self.channel,
                customer=msgspec.convert(self.customer, Customer),
                conversation_id=self.conversation_id,
                token=self.token,
            )
            await connection.send(encode(hello), text=True)
            while True:
                async with asyncio.timeout(open_timeout):
                    frame = _decoded(await connection.recv())
                if isinstance(frame, Welcome):
                    break
                if isinstance(frame, ErrorFrame):
                    raise ChatError(frame.code, frame.message)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self.conversation_id = frame.conversation_id
        self.token = frame.token
        self.mode = frame.mode
        self.history = list(frame.history)
        # Frames left from an earlier socket stay readable; its end-of-stream mark does not.
        leftover = [f for f in self._take_all() if f is not None]
        for left in leftover:
            self._frames.put_nowait(left)
        for message in self.history:
            # Messages that arrived while this client was away are new to its reader too.
            self._dispatch(message)
        self._reader = asyncio.create_task(self._read(connection), name="customer-client-reader")
        return frame

    async def reconnect(self, *, attempts: int = 20, delay: float = 0.1) -> Frame:
        """Resume the conversation on a new socket, retrying while the server is away."""
        await self.close()
        error: Exception | None = None
        for attempt in range(attempts):
            try:
                return await self.connect()
            except (TimeoutError, OSError, ConnectionClosed) as caught:
                error = caught
                await asyncio.sleep(min(delay * (attempt + 1), 2.0))
        raise ChatError("unreachable", f"cannot reconnect to {self.url}: {error}")

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await connection.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None

    # -- sending ----------------------------------------------------------------------

    async def send(self, text: str, client_id: str | None = None) -> int:
        """Send a message and wait until the server has stored it; returns its id.
        Sending again with the same ``client_id`` is safe: it is stored once."""
        if self._connection is None:
            raise ChatError("not_connected", "connect first")
        client_id = client_id or uuid.uuid4().hex
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._acks[client_id] = future
        try:
            await self._connection.send(encode(SendMessage(text=text, client_id=client_id)), text=True)
            # asyncio.timeout, not wait_for, here and below: on Python 3.11 wait_for drops
            # a cancel that lands as the awaited frame arrives, and a scripted customer
            # would then play on after being stopped.
            async with asyncio.timeout(self.ack_timeout):
                ack = await future
            # The server does not echo a message back to the socket that sent it.
            self.messages.setdefault(
                ack.id,
                ChatMessage(
                    id=ack.id, author="customer", name=str(self.customer.get("name") or ""), text=text, at=ack.at
                ),
            )
            return ack.id
        except ConnectionClosed:
            raise ChatError("disconnected", "the connection closed before the ack") from None
        finally:
            self._acks.pop(client_id, None)

    async def send_raw(self, data: str | bytes) -> None:
        """Send any frame as is (tests of the server's input checks)."""
        if self._connection is None:
            raise ChatError("not_connected", "connect first")
        await self._connection.send(data)

    # -- receiving --------------------------------------------------------------------

    async def _read(self, connection: ClientConnection) -> None:
        try:
            async for raw in connection:
                frame = _decoded(raw)
                if frame is not None:
                    self._dispatch(frame)
        except ConnectionClosed:
            pass
        finally:
            for future in self._acks.values():
                if not future.done():
                    future.set_exception(ChatError("disconnected", "the connection closed before the ack"))
            self._frames.put_nowait(None)  # tells waiting readers the socket is gone

    def _dispatch(self, frame: Frame) -> None:
        if isinstance(frame, Ack):
            future = self._acks.get(frame.client_id or "")
            if future is not None and not future.done():
                future.set_result(frame)
            return
        if isinstance(frame, ErrorFrame) and frame.client_id in self._acks:
            # The answer to a send(): it raises there, so it is not queued for readers.
            future = self._acks[frame.client_id]
            if not future.done():
                future.set_exception(ChatError(frame.code, frame.message))
            return
        if isinstance(frame, ChatMessage):
            if frame.id in self.messages:
                return  # already shown (history of an earlier connection)
            self.messages[frame.id] = frame
        elif isinstance(frame, ModeChange):
            self.mode = frame.mode
        self._frames.put_nowait(frame)

    async def receive(self, timeout: float | None = None) -> Frame:
        """The next message, mode or error frame; ChatError when the socket closed."""
        async with asyncio.timeout(timeout):
            frame = await self._frames.get()
        if frame is None:
            self._frames.put_nowait(None)  # keep telling later readers
            raise ChatError("disconnected", "the connection is closed")
        return frame

    async def wait_for(self, predicate: Callable[[Frame], bool], timeout: float = 10.0) -> Frame:
        """Skip frames until one matches ``predicate``."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.receive()
                if predicate(frame):
                    return frame

    def _take_all(self) -> list[Frame | None]:
        frames: list[Frame | None] = []
        while not self._frames.empty():
            frames.append(self._frames.get_nowait())
        return frames

    def drain(self) -> list[Frame]:
        """Frames received so far and not yet read."""
        frames: list[Frame] = []
        while not self._frames.empty():
            frame = self._frames.get_nowait()
            if frame is None:
                self._frames.put_nowait(None)
                break
            frames.append(frame)
        return frames

    def __aiter__(self) -> AsyncIterator[Frame]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Frame]:
        while True:
            try:
                yield await self.receive()
            except ChatError:
                return


def _decoded(raw: str | bytes) -> Frame | None:
    """A frame from the server, or None (logged) when it is not one this client reads."""
    try:
        return decode_server_frame(raw)
    except WireError as error:
        log.warning("skipping a frame from the server: %s", error.message)
        return None
