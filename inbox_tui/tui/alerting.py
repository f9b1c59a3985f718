"""Alerts as the teammate gets them: a toast (literal text, at the top, away from the
composer), and what the settings switch on: the bell, a desktop notification and the
unread count in the window title. The decisions are the core's (``core.alerts``)."""

from __future__ import annotations

from textual.app import App

from inbox_tui.settings import AlertSettings
from inbox_tui.tui import terminal_signals


class Alerter:
    def __init__(self, app: App[object], settings: AlertSettings) -> None:
        self.app = app
        self.settings = settings
        self._title: str | None = None
        #: Every sequence written to the terminal (tests and the headless app read it).
        self.written: list[str] = []

    def _write(self, sequence: str) -> None:
        self.written.append(sequence)
        driver = self.app._driver
        if not self.app.is_headless and driver is not None:
            driver.write(sequence)
            driver.flush()

    def alert(self, texts: list[str]) -> None:
        if not texts:
            return
        for text in texts:
            self.app.notify(text, title="Inbox", markup=False, timeout=8)
        if self.settings.bell:
            self._write(terminal_signals.BEL)
        if self.settings.desktop:
            body = texts[0] if len(texts) == 1 else f"{texts[0]} (+{len(texts) - 1} more)"
            self._write(terminal_signals.desktop_notification("inbox-tui", body, tmux=terminal_signals.in_tmux()))

    def unread(self, count: int) -> None:
        if not self.settings.window_title:
            return
        title = terminal_signals.title_with_unread(count)
        if title != self._title:
            self._title = title
            self._write(terminal_signals.window_title(title))
