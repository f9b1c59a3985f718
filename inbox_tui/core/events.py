"""The append-only event log that bridges and customer sockets stream from.

Events are written in the same transaction as the change they describe, so nothing is
announced before it is committed. Ids must become visible in increasing order, or a
client resuming from "the last id I saw" could skip an event whose smaller id committed
later. SQLite serializes writers already; on PostgreSQL every appender takes one
transaction-scoped advisory lock just before inserting, held until commit, and the
commit sends a NOTIFY that wakes the other server nodes.

The store's write group (``Store.run_write``) runs the writes that queue up together as
one transaction (``run_as_one``): their events are held back and appended together as
its last step, so the order lock is taken once, after every row lock of the group (the
store's lock order), and one NOTIFY goes out per commit, not per event. On SQLite the
group also hands back the events it appended, ids included (``AppendedEvent``), so the
node's event feed need not read back from the log what its own node just wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import String, cast, func, insert, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core.json_text import json_text, json_value
from inbox_tui.core.models import Event, table_of
from inbox_tui.core.pipelined import Work, run_pipelined
from inbox_tui.core.prepared import Prepared

NOTIFY_CHANNEL = "inbox_events"
_PG_EVENT_ORDER_LOCK = 73_110_002


class EventKind(StrEnum):
    CONVERSATION_CREATED = "conversation_created"
    MESSAGE = "message"
    ESCALATED = "escalated"
    TICKET_CREATED = "ticket_created"
    TICKET_UPDATED = "ticket_updated"
    SUMMARY_READY = "summary_ready"
    ASSIGNED = "assigned"
    NOTE = "note"
    MENTION = "mention"
    AI_PAUSED = "ai_paused"
    AI_RESUMED = "ai_resumed"
    TICKET_CLOSED = "ticket_closed"
    AGENT_UPDATED = "agent_updated"
    #: The teammate's token was rotated or removed: their bridges close, their web sessions end.
    AGENT_TOKEN_REVOKED = "agent_token_revoked"


@dataclass(frozen=True)
class PendingEvent:
    kind: str
    conversation_id: int | None = None
    ticket_id: int | None = None
    agent_id: int | None = None
    payload: dict[str, Any] | None = None


class AppendedEvent(NamedTuple):
    """An event a write group appended, as a read of the log after its commit would give
    it: its id, plain values, the payload as its stored JSON reads back, UTC time."""

    id: int
    kind: str
    conversation_id: int | None
    ticket_id: int | None
    agent_id: int | None
    payload: dict[str, Any]
    created_at: datetime


def event_to_dict(event: Event) -> dict[str, Any]:
    """The wire form of an event, as the bridge sends it."""
    return {
        "id": event.id,
        "kind": event.kind,
        "conversation_id": event.conversation_id,
        "ticket_id": event.ticket_id,
        "agent_id": event.agent_id,
        "payload": event.payload or {},
        "at": event.created_at.isoformat(),
    }


_EVENTS = table_of(Event)
_INSERT_EVENT = insert(_EVENTS).returning(_EVENTS.c.id)
_INSERT_EVENTS = Prepared(insert(_EVENTS))
_TAKE_ORDER_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
# A write group's lock and NOTIFY in one round trip: PostgreSQL sends the NOTIFY at
# commit whenever in the transaction it was asked for.
_TAKE_ORDER_LOCK_AND_NOTIFY = text("SELECT pg_advisory_xact_lock(:key), pg_notify(:channel, '')")
#: ``Connection.info`` key of the event rows a write group holds back (see the module doc).
_HELD_BACK = "inbox_tui.events_held_back"
# PostgreSQL: the last event's INSERT also sends the NOTIFY (one round trip, not two);
# PostgreSQL delivers it only when (and if) the transaction commits.
_INSERT_EVENT_AND_NOTIFY = insert(_EVENTS).returning(
    _EVENTS.c.id, func.pg_notify(NOTIFY_CHANNEL, cast(_EVENTS.c.id, String))
)


async def append(session: AsyncSession, now: datetime, *events: PendingEvent) -> list[int]:
    """Append events as the last step of a write transaction (see the module doc);
    returns the new event ids."""
    if not events:
        return []
    if session.new or session.dirty or session.deleted:
        await session.flush()  # the flow's own rows first: the events are the last step
    connection = await session.connection()
    return await connection.run_sync(append_sync, now, *events)


def append_sync(connection: Connection, now: datetime, *events: PendingEvent) -> list[int]:
    """``append`` for a flow written as synchronous Core (``Store.run_write``).

    Core INSERT … RETURNING rather than an ORM flush: this runs for every message.
    Inside a write group (``run_as_one``) the events are held back to the group's end
    and no ids are returned."""
    if not events:
        return []
    held_back: list[dict[str, Any]] | None = connection.info.get(_HELD_BACK)
    if held_back is not None:
        held_back.extend(_event_row(e, now) for e in events)
        return []
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        connection.execute(_TAKE_ORDER_LOCK, {"key": _PG_EVENT_ORDER_LOCK})
    ids = []
    # One statement per event, in order, so ids follow the order the flow gave them.
    for n, e in enumerate(events, 1):
        statement = _INSERT_EVENT_AND_NOTIFY if postgres and n == len(events) else _INSERT_EVENT
        ids.append(connection.execute(statement, _event_row(e, now)).scalar_one())
    return ids


def _event_row(event: PendingEvent, now: datetime) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "conversation_id": event.conversation_id,
        "ticket_id": event.ticket_id,
        "agent_id": event.agent_id,
        "payload": event.payload or {},
        "created_at": now,
    }


def run_as_one(connection: Connection, works: Sequence[Work], appended: list[AppendedEvent] | None = None) -> list[Any]:
    """Each ``work(connection, *args)`` in turn in the caller's transaction, then all
    their events in one step (see the module doc): one order lock, one INSERT of all
    rows (executed row by row in order, so ids follow the order the works gave them)
    and one NOTIFY. Returns each work's result; on SQLite, ``appended`` receives the
    events with their ids."""
    held_back: list[dict[str, Any]] = []
    connection.info[_HELD_BACK] = held_back
    try:
        results = run_pipelined(connection, works) if connection.dialect.name == "postgresql" else None
        if results is None:
            results = [work(connection, *args) for work, args in works]
    finally:
        del connection.info[_HELD_BACK]
    if held_back:
        if connection.dialect.name == "postgresql":
            connection.execute(_TAKE_ORDER_LOCK_AND_NOTIFY, {"key": _PG_EVENT_ORDER_LOCK, "channel": NOTIFY_CHANNEL})
        _INSERT_EVENTS.run_many(connection, held_back)
        if appended is not None and connection.dialect.name == "sqlite":
            appended.extend(_appended_on_sqlite(connection, held_back))
    return results


def _appended_on_sqlite(connection: Connection, rows: list[dict[str, Any]]) -> list[AppendedEvent]:
    """The rows just inserted, with their ids. SQLite gives a new row of an INTEGER
    PRIMARY KEY table the largest id plus one, and this transaction holds the database's
    only write lock, so the rows hold the ids up to the last one inserted, in order."""
    last = connection.connection.dbapi_connection.execute("SELECT last_insert_rowid()").fetchone()[0]  # type: ignore[union-attr]
    first = last - len(rows) + 1
    return [
        AppendedEvent(
            first + n,
            str(row["kind"]),
            row["conversation_id"],
            row["ticket_id"],
            row["agent_id"],
            json_value(json_text(row["payload"])),  # as the JSON column reads it back
            row["created_at"].astimezone(UTC),
        )
        for n, row in enumerate(rows)
    ]


async def since(session: AsyncSession, after_id: int, limit: int = 1000) -> list[Event]:
    result = await session.scalars(select(Event).where(Event.id > after_id).order_by(Event.id).limit(limit))
    return list(result)


async def last_id(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0)
