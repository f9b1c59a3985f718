"""The customer endpoint's protocol, shared by the server and every customer client.

``ws://HOST:PORT/chat`` — JSON text frames, one object each, with a ``type``.

Client → server::

    {"type": "hello", "channel": "web",
     "customer": {"id": "...", "name": "...", "email": "...", "locale": "es"},
     "conversation_id": null, "token": null}
    {"type": "message", "text": "...", "client_id": "<unique>"}

``hello`` starts a conversation, or resumes one when it carries the ``conversation_id``
and ``token`` of an earlier ``welcome``. Only ``message`` frames may follow it.

Server → client::

    {"type": "welcome", "conversation_id": "...", "token": "...", "mode": "bot|human",
     "history": [message, ...]}
    {"type": "ack", "client_id": "...", "id": 42, "at": "<ISO 8601>"}
    {"type": "message", "id": 42, "author": "customer|bot|agent|system", "name": "...",
     "text": "...", "at": "<ISO 8601>"}
    {"type": "mode", "mode": "bot|human"}
    {"type": "error", "code": "...", "message": "...", "client_id": "..."}

An ``ack`` comes once a customer message is stored; a resent ``client_id`` is
acknowledged again with the same id and stored once. ``message`` frames carry every
message of the thread exactly once per connection (history included); a message the
customer sent on this connection is confirmed by its ``ack`` instead, and reaches their
other connections (another tab) as a ``message``. ``error`` frames about a ``message``
frame carry its ``client_id``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inbox_tui.channel.bridge_protocol import CHAT_PATH, encode
from inbox_tui.core.records import MessageRecord

__all__ = ["CHAT_PATH", "encode"]
HELLO_TIMEOUT_SECONDS = 10.0
MAX_CLIENT_ID_CHARS = 100
MAX_FIELD_CHARS = 200
MAX_CHANNEL_CHARS = 32


class ErrorCode:
    BAD_JSON = "bad_json"  # not JSON, or not a JSON object
    BAD_FRAME = "bad_frame"  # a binary frame, or fields of the wrong type
    TOO_LARGE = "too_large"  # over the frame size limit
    UNKNOWN_TYPE = "unknown_type"
    HELLO_REQUIRED = "hello_required"  # a message before the hello
    ALREADY_STARTED = "already_started"  # a second hello on one connection
    NOT_FOUND = "not_found"  # unknown conversation or wrong token (one answer for both)
    BAD_MESSAGE = "bad_message"  # empty or too long text, bad client id
    RATE_LIMITED = "rate_limited"
    REJECTED = "rejected"  # the store refused it (say, the conversation ended)
    UNAVAILABLE = "unavailable"  # the server could not store it now; resend later


class FrameError(Exception):
    """A frame the server answers with an error frame; the connection stays open."""

    def __init__(self, code: str, message: str, client_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id


@dataclass(frozen=True)
class Hello:
    channel: str
    customer_id: str
    name: str
    email: str | None
    locale: str | None
    conversation_id: str | None
    token: str | None

    @property
    def resumes(self) -> bool:
        return self.conversation_id is not None


@dataclass(frozen=True)
class CustomerMessage:
    text: str
    client_id: str | None


def _optional_str(data: dict[str, Any], key: str, limit: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise FrameError(ErrorCode.BAD_FRAME, f"{key!r} must be a string of at most {limit} characters")
    return value


def parse_frame(raw: str | bytes) -> dict[str, Any]:
    if isinstance(raw, bytes):
        raise FrameError(ErrorCode.BAD_FRAME, "frames are JSON text, not binary")
    try:
        data = json.loads(raw)
    except ValueError:
        raise FrameError(ErrorCode.BAD_JSON, "the frame is not valid JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise FrameError(ErrorCode.BAD_JSON, "a frame is a JSON object with a \"type\"")
    return data


def parse_hello(data: dict[str, Any]) -> Hello:
    conversation_id = _optional_str(data, "conversation_id", 64)
    token = _optional_str(data, "token", 200)
    if conversation_id is not None:
        if not token:
            raise FrameError(ErrorCode.BAD_FRAME, "resuming a conversation needs its token")
        return Hello("", "", "", None, None, conversation_id, token)
    channel = _optional_str(data, "channel", MAX_CHANNEL_CHARS) or "web"
    customer = data.get("customer")
    if not isinstance(customer, dict):
        raise FrameError(ErrorCode.BAD_FRAME, "hello needs a \"customer\" object with an \"id\"")
    customer_id = _optional_str(customer, "id", MAX_FIELD_CHARS)
    if not customer_id or not customer_id.strip():
        raise FrameError(ErrorCode.BAD_FRAME, "hello needs a \"customer\" object with an \"id\"")
    return Hello(
        channel=channel.strip().lower() or "web",
        customer_id=customer_id,
        name=_optional_str(customer, "name", MAX_FIELD_CHARS) or "",
        email=_optional_str(customer, "email", 320),
        locale=_optional_str(customer, "locale", 16),
        conversation_id=None,
        token=None,
    )


def parse_message(data: dict[str, Any], max_chars: int) -> CustomerMessage:
    client_id = data.get("client_id")
    if client_id is not None and (not isinstance(client_id, str) or not client_id
                                  or len(client_id) > MAX_CLIENT_ID_CHARS):
        raise FrameError(ErrorCode.BAD_MESSAGE,
                         f"client_id must be a non-empty string of at most {MAX_CLIENT_ID_CHARS} characters")
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise FrameError(ErrorCode.BAD_MESSAGE, "a message needs some text", client_id)
    if len(text) > max_chars:
        raise FrameError(ErrorCode.BAD_MESSAGE, f"a message may have at most {max_chars} characters", client_id)
    return CustomerMessage(text, client_id)


def message_frame(message_id: int, author: str, name: str, text: str, at: datetime) -> dict[str, Any]:
    return {"type": "message", "id": message_id, "author": author, "name": name, "text": text,
            "at": at.isoformat()}


def record_frame(message: MessageRecord) -> dict[str, Any]:
    return message_frame(message.id, message.author, message.name, message.text, message.created_at)


def mode_of(ai_enabled: bool) -> str:
    return "bot" if ai_enabled else "human"


def error_frame(code: str, message: str, client_id: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if client_id is not None:
        frame["client_id"] = client_id
    return frame
