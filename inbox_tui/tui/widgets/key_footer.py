"""The footer of keys: Textual's, rebuilt once per refresh however often the keys changed.

Textual's footer rebuilds all its keys after the next refresh each time the screen says
its bindings changed, and the inbox says so several times while its first screen comes
in (the rows, who is signed in, the focus): six rebuilds in a row, about 40 ms of
mounting and styling keys between the rows being read and the first paint. Here a
change while a rebuild is already due joins it; that one rebuild reads the bindings as
they are by then, so the keys shown are the same.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyFooter(Footer):
    _rebuild_due = False

    def compose(self) -> ComposeResult:
        # Each key starts out compact (Textual's default) and is restyled twice as it
        # mounts: once made compact, then made like its footer, to which it is bound.
        # Keys made like the footer before they mount are styled once (about 10 ms of the
        # first screen). The command palette's key is not bound: it stays compact.
        for widget in super().compose():
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if self._rebuild_due:
            return
        super().bindings_changed(screen)
        # Textual asks for the rebuild only while the app has the focus, and only for
        # this footer's own screen; otherwise no rebuild is due (and the next change asks).
        self._rebuild_due = bool(screen.app.app_focus and self.is_attached and screen is self.screen)

    async def recompose(self) -> None:
        self._rebuild_due = False
        await super().recompose()
