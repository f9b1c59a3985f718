"""The agents' bridge: ``ws://HOST:PORT/bridge``, JSON text frames tagged on ``type``.

Client → server: :class:`Auth` first (within ``AUTH_TIMEOUT_SECONDS``), then
:class:`Ping`. Server → client: :class:`Ready`, :class:`EventFrame` (each carrying one
:class:`Event` of the log), :class:`Pong`, :class:`BridgeError`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, cast

import msgspec

from inbox_tui.wire.codec import WireCode, WireError, decode
from inbox_tui.wire.frame import WireFrame, WireObject

BRIDGE_PATH = "/bridge"
AUTH_TIMEOUT_SECONDS = 10.0
#: Close code for a refused token: retrying cannot help.
CLOSE_UNAUTHORIZED = 4001
#: Event ids are 63-bit (a PostgreSQL bigint).
MAX_EVENT_ID = 2**63 - 1


class BridgeCode(StrEnum):
    UNAUTHORIZED = "unauthorized"  # wrong, missing or late token (closed with 4001)
    BAD_JSON = WireCode.BAD_JSON
    BAD_FRAME = WireCode.BAD_FRAME
    UNKNOWN_TYPE = WireCode.UNKNOWN_TYPE
    #: ``last_event_id`` is above the log's head; the error carries the head.
    AHEAD_OF_LOG = "ahead_of_log"
    UNAVAILABLE = "unavailable"  # the database cannot be reached now; reconnect later


EventId = Annotated[int, msgspec.Meta(ge=0, le=MAX_EVENT_ID)]


# -- client → server ---------------------------------------------------------------------


class Auth(WireFrame, tag="auth", frozen=True):
    """The teammate's token, and the id of the last event the client has seen."""

    token: Annotated[str, msgspec.Meta(max_length=512)] | None = None
    last_event_id: EventId | None = None


class Ping(WireFrame, tag="ping", frozen=True):
    pass


BridgeClientFrame = Auth | Ping
BRIDGE_CLIENT_FRAME_TYPES = frozenset({"auth", "ping"})


def decode_bridge_client_frame(raw: str | bytes) -> BridgeClientFrame:
    return cast(BridgeClientFrame, decode(raw, BridgeClientFrame, BRIDGE_CLIENT_FRAME_TYPES))


def auth_frame(token: str, last_event_id: int) -> dict[str, Any]:
    """The auth frame as a plain object (for clients that send ``json.dumps`` text)."""
    return {"type": "auth", "token": token, "last_event_id": last_event_id}


# -- server → client ---------------------------------------------------------------------


class AgentInfo(WireObject, frozen=True):
    id: int
    handle: str
    name: str


class Ready(WireFrame, tag="ready", frozen=True):
    """Authenticated; ``last_event_id`` is the log's head now."""

    agent: AgentInfo
    last_event_id: int


class Event(WireObject, frozen=True):
    """One committed event of the log; ``kind`` is one of ``core.events.EventKind``, and
    ``payload`` depends on it (a ``message`` event: message_id, author, name, text,
    client_id)."""

    id: int
    kind: str
    conversation_id: int | None
    ticket_id: int | None
    agent_id: int | None
    payload: dict[str, Any]
    at: str  # ISO 8601


class EventFrame(WireFrame, tag="event", frozen=True):
    event: Event


class Pong(WireFrame, tag="pong", frozen=True):
    pass


class BridgeError(WireFrame, tag="error", omit_defaults=True, frozen=True):
    """A refusal; ``ahead_of_log`` carries the head as ``last_event_id``."""

    code: str
    message: str
    last_event_id: int | None = None


BridgeServerFrame = Ready | EventFrame | Pong | BridgeError
BRIDGE_SERVER_FRAME_TYPES = frozenset({"ready", "event", "pong", "error"})


def decode_bridge_server_frame(raw: str | bytes) -> BridgeServerFrame:
    """A frame from the server (the agent clients' side)."""
    return cast(BridgeServerFrame, decode(raw, BridgeServerFrame, BRIDGE_SERVER_FRAME_TYPES))


def decode_event(raw: str | bytes) -> Event:
    """The event of an ``event`` frame as received on ``/bridge``; ``WireError`` for any
    other frame."""
    frame = decode_bridge_server_frame(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    if not isinstance(frame, EventFrame):
        raise WireError(WireCode.UNKNOWN_TYPE, f"not an event frame: {type(frame).__name__}")
    return frame.event
