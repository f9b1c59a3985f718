"""Entry point for ``inbox-tui open`` (and the bare ``inbox-tui``)."""

from __future__ import annotations

from inbox_tui.settings import Settings


def run_tui(settings: Settings, agent_handle: str | None = None) -> int:
    """Run the inbox until it quits; returns its exit code (non-zero when it stopped on an error)."""
    from inbox_tui.tui.app import InboxApp

    app = InboxApp(settings, agent_handle=agent_handle)
    app.run()
    return app.return_code or 0
