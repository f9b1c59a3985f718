"""Wiring shared by every entry point: settings → store, AI backend, flow settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from inbox_tui.core.migrate import ensure_schema
from inbox_tui.core.store import Clock, Store, utc_now
from inbox_tui.settings import Settings

if TYPE_CHECKING:
    from inbox_tui.ai.interface import AIBackend
    from inbox_tui.core.escalation import EscalationSettings
    from inbox_tui.core.status_lines import StatusLines


def status_lines_from(settings: Settings, ai: AIBackend) -> StatusLines:
    from inbox_tui.core.status_lines import StatusLines

    configured = settings.status_lines
    return StatusLines(
        {"queued": configured.queued, "joined": configured.joined, "back_at": configured.back_at},
        ai,
        timeout=settings.ai.summary_timeout,
    )


def escalation_settings(settings: Settings) -> EscalationSettings:
    from inbox_tui.core.escalation import EscalationSettings, HandoffConfig

    return EscalationSettings(
        handoff=HandoffConfig(settings.bot.handoff_message, dict(settings.bot.handoff_translations)),
        assignment=settings.assignment,
        summary_lease=timedelta(seconds=settings.summary_lease_seconds),
        summary_timeout=settings.ai.summary_timeout,
    )


@dataclass
class Runtime:
    """The store, and the AI backend and flow settings built on first use: the inbox
    paints its first screen before it loads the AI (and the modules behind it)."""

    settings: Settings
    store: Store
    _ai: AIBackend | None = field(default=None, repr=False)

    @property
    def ai(self) -> AIBackend:
        return self.load_ai()

    def load_ai(self) -> AIBackend:
        """Build the AI backend and install the status lines, once."""
        if self._ai is None:
            from inbox_tui.ai.factory import build_ai
            from inbox_tui.core.status_lines import configure_status_lines

            self._ai = build_ai(self.settings)
            # What customers are told, in their language, from every flow of this process.
            configure_status_lines(status_lines_from(self.settings, self._ai))
        return self._ai

    @cached_property
    def escalation(self) -> EscalationSettings:
        return escalation_settings(self.settings)

    async def close(self) -> None:
        try:
            if self._ai is not None:
                await self._ai.close()
        finally:
            await self.store.close()


async def open_runtime(
    settings: Settings, *, clock: Clock = utc_now, migrate: bool = True, build_ai: bool = True
) -> Runtime:
    """Open the store (upgrading the schema on first start) and, unless ``build_ai`` is
    False (then on first use of ``Runtime.ai``), build the AI backend and install the
    status lines."""
    store = Store(settings.database_url, clock=clock)
    try:
        if migrate:
            await ensure_schema(store)
    except Exception:
        await store.close()
        raise
    runtime = Runtime(settings, store)
    if build_ai:
        runtime.load_ai()
    return runtime
