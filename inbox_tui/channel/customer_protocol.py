"""The server's rules for the customer protocol, on top of its frames in ``inbox_tui.wire``.

The frames themselves (and the README's "customer protocol" section, checked against
their schema) are in ``inbox_tui.wire.customer``; this module turns a received frame
into a checked :class:`Hello` or :class:`SendMessage`, or a :class:`FrameError` whose
stable code and message the endpoint sends back.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from inbox_tui.core.records import MessageRecord
from inbox_tui.wire.codec import InvalidFields, WireError
from inbox_tui.wire.customer import (
    CHAT_PATH,
    HELLO_TIMEOUT_SECONDS,
    MAX_CLIENT_ID_CHARS,
    ChatMessage,
    CustomerFrame,
    ErrorCode,
    ErrorFrame,
    Hello,
    SendMessage,
    decode_customer_frame,
    mode_of,
)

__all__ = [
    "CHAT_PATH",
    "HELLO_TIMEOUT_SECONDS",
    "MAX_CLIENT_ID_CHARS",
    "ErrorCode",
    "FrameError",
    "Hello",
    "SendMessage",
    "check_hello",
    "check_message",
    "error_frame",
    "mode_of",
    "read_frame",
    "record_frame",
]


class FrameError(Exception):
    """A frame the server answers with an error frame; the connection stays open."""

    def __init__(self, code: str, message: str, client_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id


class _ClientIdOnly(msgspec.Struct):
    client_id: Any = None


def _client_id_of(raw: str) -> str | None:
    """The ``client_id`` of a refused message frame, when it is one we could echo, so
    the sender learns which of its messages was refused."""
    try:
        client_id = msgspec.json.decode(raw, type=_ClientIdOnly).client_id
    except msgspec.DecodeError:
        # Text msgspec will not read (a lone surrogate elsewhere); the depth was checked.
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        client_id = data.get("client_id") if isinstance(data, dict) else None
        if isinstance(client_id, str) and not _storable(client_id):
            return None
    if isinstance(client_id, str) and 0 < len(client_id) <= MAX_CLIENT_ID_CHARS and "\x00" not in client_id:
        return client_id
    return None


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_frame(raw: str | bytes) -> CustomerFrame:
    """A frame from a customer, or FrameError with the code the protocol promises."""
    try:
        return decode_customer_frame(raw)
    except WireError as error:
        client_id = _client_id_of(raw) if error.frame_type == "message" and isinstance(raw, str) else None
        # Wrong fields in a message are a bad message; unstorable text is a bad frame.
        code = (
            ErrorCode.BAD_MESSAGE if isinstance(error, InvalidFields) and error.frame_type == "message" else error.code
        )
        raise FrameError(code, error.message, client_id) from None


def check_hello(hello: Hello) -> Hello:
    """The hello's rules beyond field types: a resume needs its token, a start a customer id."""
    if hello.conversation_id is not None:
        if not hello.token:
            raise FrameError(ErrorCode.BAD_FRAME, "resuming a conversation needs its token")
        return hello
    if hello.customer is None or not hello.customer.id.strip():
        raise FrameError(ErrorCode.BAD_FRAME, 'hello needs a "customer" object with an "id"')
    return hello


def channel_of(hello: Hello) -> str:
    return (hello.channel or "").strip().lower() or "web"


def check_message(message: SendMessage, max_chars: int) -> SendMessage:
    if not message.text.strip():
        raise FrameError(ErrorCode.BAD_MESSAGE, "a message needs some text", message.client_id)
    if len(message.text) > max_chars:
        raise FrameError(ErrorCode.BAD_MESSAGE, f"a message may have at most {max_chars} characters", message.client_id)
    return message


def record_frame(message: MessageRecord) -> ChatMessage:
    return ChatMessage(
        id=message.id, author=message.author, name=message.name, text=message.text, at=message.created_at.isoformat()
    )


def error_frame(code: str, message: str, client_id: str | None = None) -> ErrorFrame:
    return ErrorFrame(code=code, message=message, client_id=client_id)
