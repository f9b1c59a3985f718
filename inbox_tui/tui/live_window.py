"""Which conversations the Conversations view keeps: those active within the configured
idle time (``[tui] idle_minutes``); a customer long gone leaves the list and comes back
with their next message. Search still finds every conversation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from inbox_tui.settings import Settings

#: How often the Conversations view drops the conversations that went idle.
IDLE_SWEEP_SECONDS = 60.0


def active_since(settings: Settings, clock: Callable[[], datetime]) -> datetime | None:
    minutes = settings.tui.idle_minutes
    return clock() - timedelta(minutes=minutes) if minutes > 0 else None
