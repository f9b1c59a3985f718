"""The agents' bridge protocol, shared by the server and every agent client (the TUI).

The frames are typed in ``inbox_tui.wire.bridge`` (and documented, with the customer
protocol, in the README); this module keeps the names agent clients import.

``ws://HOST:PORT/bridge`` — JSON text frames, one object each, with a ``type``.
Client → server, first frame within 10 s::

    {"type": "auth", "token": "<teammate token>", "last_event_id": 0}

``last_event_id`` is the id of the last event the client has seen (0 or null for none).
An id above the log's head is refused with ``ahead_of_log``, carrying the head as
``last_event_id`` (the database was replaced: start again from there).

Server → client::

    {"type": "ready", "agent": {"id": 1, "handle": "ana", "name": "Ana"}, "last_event_id": 1234}
    {"type": "event", "event": {"id": 1235, "kind": "message", "conversation_id": 7,
                                "ticket_id": null, "agent_id": null, "payload": {...}, "at": "..."}}
    {"type": "error", "code": "unauthorized" | "bad_frame" | ..., "message": "..."}

After ``ready`` the server first replays every event with an id above ``last_event_id``
(in id order), then streams new ones as they are committed; ids only increase, so a
client that reconnects with the last id it saw misses nothing and sees nothing twice.
Event ``kind`` values are those of ``inbox_tui.core.events.EventKind``;
``inbox_tui.wire.decode_event`` turns an ``event`` frame into a typed ``Event``.

Client → server after ``ready``: ``{"type": "ping"}`` → ``{"type": "pong"}``. Agents'
actions (take over, reply, notes, …) are not sent over the bridge: clients run the core
flows against the same database, whose event log then reaches every node and client.

A connected, authenticated client counts as the teammate being online (presence).
A wrong or missing token gets an ``unauthorized`` error and the socket is closed with
code 4001.
"""

from __future__ import annotations

from inbox_tui.wire.bridge import AUTH_TIMEOUT_SECONDS, BRIDGE_PATH, CLOSE_UNAUTHORIZED, auth_frame
from inbox_tui.wire.customer import CHAT_PATH

__all__ = ["AUTH_TIMEOUT_SECONDS", "BRIDGE_PATH", "CHAT_PATH", "CLOSE_UNAUTHORIZED", "auth_frame"]
