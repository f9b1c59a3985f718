"""Entry point for ``inbox-tui open`` (and the bare ``inbox-tui``)."""

from __future__ import annotations

from inbox_tui.settings import Settings


def run_tui(settings: Settings, agent_handle: str | None = None) -> None:
    from inbox_tui.tui.app import InboxApp

    InboxApp(settings, agent_handle=agent_handle).run()
