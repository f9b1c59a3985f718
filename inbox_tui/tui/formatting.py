"""Short, stable renderings of times and states for list cells and headers."""

from __future__ import annotations

from datetime import datetime

from inbox_tui.core.models import SummaryState, TicketStatus


def age(now: datetime, then: datetime) -> str:
    """Compact age like mail clients show it: ``now``, ``42s``, ``3m``, ``2h``, ``5d``."""
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 5:
        return "now"
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def status_label(status: str, assigned: bool = True) -> str:
    """``on_you`` means "the team owes a reply": said differently while nobody holds it."""
    if status == TicketStatus.ON_YOU and not assigned:
        return "Waiting for a teammate"
    return TicketStatus.LABELS.get(status, status)


def summary_pending(summary_state: str) -> bool:
    return summary_state == SummaryState.PENDING
