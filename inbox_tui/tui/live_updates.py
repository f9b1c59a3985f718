"""Bridge events, made typed, and bursts of them merged into what the screen refreshes.

:func:`event_received` is the one place where a raw bridge event (a JSON object) becomes
a typed :class:`LiveEvent` inside an :class:`EventArrived` message; nothing else in the
inbox reads event dicts. The refresher hands every event that arrived since its last
pass to :func:`merge_events`, so a conversation that got ten messages is fetched (or
moved) once, and a listed conversation that only got a message is moved from the event
itself (:func:`moved_row`): the event carries the committed message, no query needed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from textual.message import Message

from inbox_tui.core.conversations import preview_of
from inbox_tui.core.events import EventKind
from inbox_tui.core.records import ConversationRow
from inbox_tui.wire.bridge import Event

# Events that change a conversation row (its preview, age or whether it is still live).
CONVERSATION_EVENTS = frozenset(
    {
        EventKind.CONVERSATION_CREATED,
        EventKind.MESSAGE,
        EventKind.ESCALATED,
        EventKind.AI_PAUSED,
        EventKind.AI_RESUMED,
        EventKind.TICKET_CLOSED,
        EventKind.TICKET_CREATED,
    }
)


@dataclass(frozen=True)
class LiveEvent:
    """One committed event, as far as the inbox reads it."""

    id: int
    kind: str
    conversation_id: int | None = None
    ticket_id: int | None = None
    agent_id: int | None = None
    at: datetime | None = None
    message_id: int | None = None  # message events
    text: str | None = None  # message events: the committed text
    by: str = ""  # mention events: who mentioned
    author: str = ""  # message events: customer, bot, agent or system
    snooze_ended: bool = False  # ticket updates: the snooze's time came


@dataclass
class EventArrived(Message, bubble=False):  # for the inbox screen only: one per event
    """The bridge delivered an event (posted to the inbox screen, in id order)."""

    event: LiveEvent


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def live_event(raw: Event | Mapping[str, Any]) -> LiveEvent | None:
    """A bridge event (typed, or a plain object as in tests) as a :class:`LiveEvent`;
    None when it has no id or kind."""
    event_id = _int(raw.get("id"))
    kind = raw.get("kind")
    if event_id is None or not isinstance(kind, str):
        return None
    payload = raw.get("payload")
    payload = payload if isinstance(payload, Mapping) else {}
    text = payload.get("text")
    by = payload.get("by")
    author = payload.get("author")
    return LiveEvent(
        id=event_id,
        kind=kind,
        conversation_id=_int(raw.get("conversation_id")),
        ticket_id=_int(raw.get("ticket_id")),
        agent_id=_int(raw.get("agent_id")),
        at=_when(raw.get("at")),
        message_id=_int(payload.get("message_id")),
        text=text if isinstance(text, str) else None,
        by=by if isinstance(by, str) else "",
        author=author if isinstance(author, str) else "",
        snooze_ended=kind == EventKind.TICKET_UPDATED and payload.get("woke") is True,
    )


def event_received(raw: Event | Mapping[str, Any]) -> EventArrived | None:
    event = live_event(raw)
    return EventArrived(event) if event is not None else None


@dataclass
class EventBatch:
    """What a burst of events touched, merged so each thing is fetched once."""

    conversation_ids: set[int] = field(default_factory=set)
    # Conversations whose row changed in more than preview and age (created, escalated, …).
    changed_conversation_ids: set[int] = field(default_factory=set)
    # The newest message of each conversation, and how many arrived.
    latest_messages: dict[int, tuple[LiveEvent, int]] = field(default_factory=dict)
    ticket_ids: set[int] = field(default_factory=set)
    tickets_changed: bool = False
    team_changed: bool = False
    new_on_me: set[int] = field(default_factory=set)  # tickets newly assigned to me by others
    mentions: list[tuple[int, str]] = field(default_factory=list)  # (ticket, by handle)
    message_ids: list[int] = field(default_factory=list)


def merge_events(events: list[LiveEvent], me: int | None, my_takeovers: Collection[int] = ()) -> EventBatch:
    batch = EventBatch()
    for event in events:
        kind = event.kind
        conversation_id = event.conversation_id
        ticket_id = event.ticket_id
        if kind == EventKind.MESSAGE and event.message_id:
            batch.message_ids.append(event.message_id)
        if conversation_id and kind in CONVERSATION_EVENTS:
            batch.conversation_ids.add(conversation_id)
            if kind == EventKind.MESSAGE:
                _, count = batch.latest_messages.get(conversation_id, (event, 0))
                batch.latest_messages[conversation_id] = (event, count + 1)
            else:
                batch.changed_conversation_ids.add(conversation_id)
        if ticket_id:
            batch.ticket_ids.add(ticket_id)
            batch.tickets_changed = True
        if kind == EventKind.AGENT_UPDATED:
            batch.team_changed = True
        if me is not None and event.agent_id == me and ticket_id:
            if kind in (EventKind.TICKET_CREATED, EventKind.ASSIGNED) and ticket_id not in my_takeovers:
                batch.new_on_me.add(ticket_id)
            elif kind == EventKind.MENTION:
                batch.mentions.append((ticket_id, event.by))
    return batch


def moved_row(current: ConversationRow, event: LiveEvent, count: int) -> ConversationRow | None:
    """``current`` with the event's message applied (preview, activity time, count);
    None when the event lacks what is needed (then the row is fetched instead)."""
    if event.text is None or event.at is None:
        return None
    return replace(
        current, preview=preview_of(event.text), last_activity_at=event.at, message_count=current.message_count + count
    )
