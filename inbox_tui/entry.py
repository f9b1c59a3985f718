"""The ``inbox-tui`` command: the collector is paused before anything is imported.

Kept apart from :mod:`inbox_tui.cli` because that module's own imports (settings, the
store, SQLAlchemy) are already part of the start (see :mod:`inbox_tui.collector`)."""

from __future__ import annotations

from inbox_tui import collector


def main() -> None:
    collector.pause()
    from inbox_tui.cli import main as cli

    cli()
