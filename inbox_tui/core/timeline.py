"""Ticket timeline entries: what happened to a ticket, by whom, in order."""

from __future__ import annotations

from datetime import datetime

from inbox_tui.core.models import TimelineEvent, TimelineKind


def timeline(
    ticket_id: int, now: datetime, code: str, text: str, agent_id: int | None = None, kind: str = TimelineKind.SYSTEM
) -> TimelineEvent:
    return TimelineEvent(ticket_id=ticket_id, kind=kind, code=code, text=text, agent_id=agent_id, created_at=now)
