"""Bursts of bridge events, merged into what the screen must refresh.

The refresher hands every event that arrived since its last pass to
:func:`merge_events`, so a conversation that got ten messages is fetched (or moved) once,
and a listed conversation that only got a message is moved from the event itself
(:func:`moved_row`): the event carries the committed message, no query needed.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from inbox_tui.core.conversations import preview_of
from inbox_tui.core.events import EventKind
from inbox_tui.core.records import ConversationRow

# Events that change a conversation row (its preview, age or whether it is still live).
CONVERSATION_EVENTS = frozenset({EventKind.CONVERSATION_CREATED, EventKind.MESSAGE, EventKind.ESCALATED,
                                 EventKind.AI_PAUSED, EventKind.AI_RESUMED, EventKind.TICKET_CLOSED,
                                 EventKind.TICKET_CREATED})


@dataclass
class EventBatch:
    """What a burst of events touched, merged so each thing is fetched once."""

    conversation_ids: set[int] = field(default_factory=set)
    # Conversations whose row changed in more than preview and age (created, escalated, …).
    changed_conversation_ids: set[int] = field(default_factory=set)
    # The newest message of each conversation, and how many arrived.
    latest_messages: dict[int, tuple[dict[str, Any], int]] = field(default_factory=dict)
    ticket_ids: set[int] = field(default_factory=set)
    tickets_changed: bool = False
    team_changed: bool = False
    new_on_me: set[int] = field(default_factory=set)  # tickets newly assigned to me by others
    mentions: list[tuple[int, str]] = field(default_factory=list)  # (ticket, by handle)


def merge_events(events: list[dict[str, Any]], me: int | None, my_takeovers: Collection[int] = ()) -> EventBatch:
    batch = EventBatch()
    for event in events:
        kind = event.get("kind")
        conversation_id = event.get("conversation_id")
        ticket_id = event.get("ticket_id")
        if conversation_id and kind in CONVERSATION_EVENTS:
            batch.conversation_ids.add(int(conversation_id))
            if kind == EventKind.MESSAGE:
                _, count = batch.latest_messages.get(int(conversation_id), (event, 0))
                batch.latest_messages[int(conversation_id)] = (event, count + 1)
            else:
                batch.changed_conversation_ids.add(int(conversation_id))
        if ticket_id:
            batch.ticket_ids.add(int(ticket_id))
            batch.tickets_changed = True
        if kind == EventKind.AGENT_UPDATED:
            batch.team_changed = True
        if me is not None and event.get("agent_id") == me and ticket_id:
            if kind in (EventKind.TICKET_CREATED, EventKind.ASSIGNED) and ticket_id not in my_takeovers:
                batch.new_on_me.add(int(ticket_id))
            elif kind == EventKind.MENTION:
                batch.mentions.append((int(ticket_id), str((event.get("payload") or {}).get("by") or "")))
    return batch


def moved_row(current: ConversationRow, event: dict[str, Any], count: int) -> ConversationRow | None:
    """``current`` with the event's message applied (preview, activity time, count);
    None when the event lacks what is needed (then the row is fetched instead)."""
    payload = event.get("payload") or {}
    if not isinstance(payload.get("text"), str):
        return None
    try:
        at = datetime.fromisoformat(str(event.get("at")))
    except ValueError:
        return None
    return replace(current, preview=preview_of(payload["text"]), last_activity_at=at,
                   message_count=current.message_count + count)
