"""The agents' bridge protocol, shared by the server and every agent client (the TUI).

``ws://HOST:PORT/bridge`` — JSON text frames, one object each, with a ``type``.

Client → server, first frame within 10 s::

    {"type": "auth", "token": "<teammate token>", "last_event_id": 0}

``last_event_id`` is the id of the last event the client has seen (0 or null for none).

Server → client::

    {"type": "ready", "agent": {"id": 1, "handle": "ana", "name": "Ana"}, "last_event_id": 1234}
    {"type": "event", "event": {"id": 1235, "kind": "message", "conversation_id": 7,
                                "ticket_id": null, "agent_id": null, "payload": {...}, "at": "..."}}
    {"type": "error", "code": "unauthorized" | "bad_frame" | ..., "message": "..."}

After ``ready`` the server first replays every event with an id above ``last_event_id``
(in id order), then streams new ones as they are committed; ids only increase, so a
client that reconnects with the last id it saw misses nothing and sees nothing twice.
Event ``kind`` values are those of ``inbox_tui.core.events.EventKind``.

Client → server after ``ready``: ``{"type": "ping"}`` → ``{"type": "pong"}``. Agents'
actions (take over, reply, notes, …) are not sent over the bridge: clients run the core
flows against the same database, whose event log then reaches every node and client.

A connected, authenticated client counts as the teammate being online (presence).
A wrong or missing token gets an ``unauthorized`` error and the socket is closed with
code 4001.
"""

from __future__ import annotations

import json
from typing import Any

BRIDGE_PATH = "/bridge"
CHAT_PATH = "/chat"
AUTH_TIMEOUT_SECONDS = 10.0
CLOSE_UNAUTHORIZED = 4001


def auth_frame(token: str, last_event_id: int) -> dict[str, Any]:
    return {"type": "auth", "token": token, "last_event_id": last_event_id}


def encode(frame: dict[str, Any]) -> str:
    """A frame as compact JSON text (the form of every frame on ``/bridge`` and ``/chat``)."""
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def decode_object(raw: str | bytes) -> dict[str, Any] | None:
    """A received frame as a JSON object, or None when it is not one."""
    try:
        data = json.loads(raw)
    except (ValueError, TypeError):
        return None
    return data if isinstance(data, dict) else None
