"""Wiring shared by every entry point: settings → store, AI backend, flow settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from inbox_tui.ai.factory import build_ai
from inbox_tui.ai.interface import AIBackend
from inbox_tui.core.escalation import EscalationSettings, HandoffConfig
from inbox_tui.core.migrate import ensure_schema
from inbox_tui.core.status_lines import StatusLines, configure_status_lines
from inbox_tui.core.store import Clock, Store, utc_now
from inbox_tui.settings import Settings


def status_lines_from(settings: Settings, ai: AIBackend) -> StatusLines:
    configured = settings.status_lines
    return StatusLines(
        {"queued": configured.queued, "joined": configured.joined, "back_at": configured.back_at},
        ai,
        timeout=settings.ai.summary_timeout,
    )


def escalation_settings(settings: Settings) -> EscalationSettings:
    return EscalationSettings(
        handoff=HandoffConfig(settings.bot.handoff_message, dict(settings.bot.handoff_translations)),
        assignment=settings.assignment,
        summary_lease=timedelta(seconds=settings.summary_lease_seconds),
        summary_timeout=settings.ai.summary_timeout,
    )


@dataclass
class Runtime:
    settings: Settings
    store: Store
    ai: AIBackend
    escalation: EscalationSettings

    async def close(self) -> None:
        try:
            await self.ai.close()
        finally:
            await self.store.close()


async def open_runtime(settings: Settings, *, clock: Clock = utc_now, migrate: bool = True) -> Runtime:
    """Open the store (upgrading the schema on first start) and build the AI backend."""
    store = Store(settings.database_url, clock=clock)
    try:
        if migrate:
            await ensure_schema(store)
    except Exception:
        await store.close()
        raise
    ai = build_ai(settings)
    # What customers are told, in their language, from every flow of this process.
    configure_status_lines(status_lines_from(settings, ai))
    return Runtime(settings, store, ai, escalation_settings(settings))
