"""The customer protocol: ``ws://HOST:PORT/chat``, JSON text frames tagged on ``type``.

Client → server: :class:`Hello`, then :class:`SendMessage` frames. Server → client:
:class:`Welcome`, :class:`Ack`, :class:`ChatMessage`, :class:`ModeChange`,
:class:`ErrorFrame`. The README's "customer protocol" section documents every frame and
field, and a test checks it against :mod:`inbox_tui.wire.schema`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, cast

import msgspec

from inbox_tui.wire.codec import WireCode, decode
from inbox_tui.wire.frame import WireFrame, WireObject

CHAT_PATH = "/chat"
HELLO_TIMEOUT_SECONDS = 10.0
MAX_CLIENT_ID_CHARS = 100
MAX_FIELD_CHARS = 200
MAX_CHANNEL_CHARS = 32


class ErrorCode(StrEnum):
    """The ``code`` of an :class:`ErrorFrame`; stable, clients branch on them."""

    BAD_JSON = WireCode.BAD_JSON  # not JSON, or not a JSON object with a "type"
    BAD_FRAME = WireCode.BAD_FRAME  # binary, too deep, unstorable text, fields of the wrong type
    TOO_LARGE = "too_large"  # over the frame size limit
    UNKNOWN_TYPE = WireCode.UNKNOWN_TYPE
    HELLO_REQUIRED = "hello_required"  # a message before the hello
    ALREADY_STARTED = "already_started"  # a second hello on one connection
    NOT_FOUND = "not_found"  # unknown conversation or wrong token (one answer for both)
    BAD_MESSAGE = "bad_message"  # empty or too long text, bad client id
    RATE_LIMITED = "rate_limited"  # too many frames, or too many new conversations
    REJECTED = "rejected"  # the store refused it (say, the conversation ended)
    UNAVAILABLE = "unavailable"  # the server could not store it now; send it again later


class Author(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class Mode(StrEnum):
    BOT = "bot"
    HUMAN = "human"


def mode_of(ai_enabled: bool) -> str:
    return Mode.BOT if ai_enabled else Mode.HUMAN


ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_CLIENT_ID_CHARS)]
ShortText = Annotated[str, msgspec.Meta(max_length=MAX_FIELD_CHARS)]


# -- client → server ---------------------------------------------------------------------


class Customer(WireObject, frozen=True):
    """Who is writing; ``id`` is the customer's id in the embedding site."""

    id: ShortText
    name: ShortText | None = None
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    locale: Annotated[str, msgspec.Meta(max_length=16)] | None = None
    # An IANA name (``Europe/Lisbon``): times the customer is told are in it. An unknown
    # name is ignored (UTC), never an error: a browser's list may be newer than ours.
    time_zone: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class Hello(WireFrame, tag="hello", frozen=True):
    """Starts a conversation (``customer`` required), or resumes one (``conversation_id``
    and ``token`` of an earlier welcome)."""

    channel: Annotated[str, msgspec.Meta(max_length=MAX_CHANNEL_CHARS)] | None = None
    customer: Customer | None = None
    conversation_id: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    token: ShortText | None = None

    @property
    def resumes(self) -> bool:
        return self.conversation_id is not None


class SendMessage(WireFrame, tag="message", frozen=True):
    """A customer message; a resent ``client_id`` is stored once."""

    text: str
    client_id: ClientId | None = None


CustomerFrame = Hello | SendMessage
CUSTOMER_FRAME_TYPES = frozenset({"hello", "message"})


def decode_customer_frame(raw: str | bytes) -> CustomerFrame:
    """A frame from a customer; ``WireError`` when refused (see ``codec.decode``)."""
    return cast(CustomerFrame, decode(raw, CustomerFrame, CUSTOMER_FRAME_TYPES))


# -- server → client ---------------------------------------------------------------------


class ChatMessage(WireFrame, tag="message", frozen=True):
    """One message of the thread; ``author`` is customer, bot, agent or system."""

    id: int
    author: str
    name: str
    text: str
    at: str  # ISO 8601


class Welcome(WireFrame, tag="welcome", frozen=True):
    conversation_id: str
    token: str
    mode: str  # bot | human
    history: list[ChatMessage]


class Ack(WireFrame, tag="ack", frozen=True):
    """The customer's message is stored as ``id``."""

    client_id: str | None
    id: int
    at: str


class ModeChange(WireFrame, tag="mode", frozen=True):
    mode: str  # bot | human


class ErrorFrame(WireFrame, tag="error", omit_defaults=True, frozen=True):
    """A refusal; about a message frame, it carries that frame's ``client_id``."""

    code: str
    message: str
    client_id: str | None = None


ServerFrame = Welcome | Ack | ChatMessage | ModeChange | ErrorFrame
SERVER_FRAME_TYPES = frozenset({"welcome", "ack", "message", "mode", "error"})


def decode_server_frame(raw: str | bytes) -> ServerFrame:
    """A frame from the server (the customer clients' side)."""
    return cast(ServerFrame, decode(raw, ServerFrame, SERVER_FRAME_TYPES))
