"""Merging a burst of bridge events into what the screen refreshes."""

from __future__ import annotations

from datetime import UTC, datetime

from inbox_tui.core.records import ConversationRow
from inbox_tui.tui.live_updates import LiveEvent, live_event, merge_events, moved_row


def message(event_id: int, conversation_id: int, text: str, ticket_id: int | None = None) -> dict:  # type: ignore[type-arg]
    return {
        "id": event_id,
        "kind": "message",
        "conversation_id": conversation_id,
        "ticket_id": ticket_id,
        "agent_id": None,
        "payload": {"message_id": event_id, "text": text},
        "at": f"2026-11-21T10:00:{event_id:02d}+00:00",
    }


def test_a_burst_is_merged_per_conversation_and_toasts_are_mine_only() -> None:
    events = [
        message(1, 7, "a"),
        message(2, 7, "b"),
        message(3, 8, "c"),
        {"id": 4, "kind": "escalated", "conversation_id": 9, "ticket_id": 3, "agent_id": 2, "payload": {}},
        {"id": 5, "kind": "ticket_created", "conversation_id": 9, "ticket_id": 3, "agent_id": 1, "payload": {}},
        {"id": 6, "kind": "ticket_created", "conversation_id": 10, "ticket_id": 4, "agent_id": 1, "payload": {}},
        {"id": 7, "kind": "mention", "conversation_id": 9, "ticket_id": 3, "agent_id": 1, "payload": {"by": "bob"}},
        {"id": 8, "kind": "mention", "conversation_id": 9, "ticket_id": 3, "agent_id": 2, "payload": {"by": "ana"}},
        {"id": 9, "kind": "agent_updated", "conversation_id": None, "ticket_id": None, "agent_id": 2},
    ]
    batch = merge_events([live_event(e) for e in events], me=1, my_takeovers={4})
    assert batch.conversation_ids == {7, 8, 9, 10}
    assert batch.changed_conversation_ids == {9, 10}
    assert batch.latest_messages[7][0].id == 2 and batch.latest_messages[7][1] == 2
    assert batch.new_on_me == {3}  # ticket 4 was my own takeover: no toast for it
    assert batch.mentions == [(3, "bob")]
    assert batch.team_changed and batch.tickets_changed


def test_a_message_moves_a_listed_row_without_a_query() -> None:
    row = ConversationRow(
        7, "p", "Ana", "web", "en", "live", True, "old", 3, datetime(2026, 11, 21, 9, 0, tzinfo=UTC), 1
    )
    moved = moved_row(row, live_event(message(5, 7, "new\nline  text")), 2)
    assert moved is not None
    assert moved.preview == "new line text" and moved.message_count == 5
    assert moved.last_activity_at == datetime(2026, 11, 21, 10, 0, 5, tzinfo=UTC)
    assert moved_row(row, LiveEvent(id=9, kind="message"), 1) is None  # no text: fetched instead


def test_raw_events_become_typed_and_malformed_ones_are_dropped() -> None:
    event = live_event(
        {
            "id": 3,
            "kind": "mention",
            "ticket_id": "4",
            "agent_id": 1,
            "payload": {"by": "bob"},
            "at": "2026-11-21T10:00:00+00:00",
        }
    )
    assert event == LiveEvent(
        id=3, kind="mention", ticket_id=4, agent_id=1, by="bob", at=datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    )
    assert live_event({"kind": "message"}) is None  # no id
    assert live_event({"id": 5, "kind": 7}) is None
    odd = live_event({"id": 6, "kind": "message", "payload": ["not", "an", "object"], "at": "yesterday"})
    assert odd is not None and odd.text is None and odd.at is None
