"""A fixed one-line widget that repaints only itself."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widget import Widget

Part = str | tuple[str, str]


class OneLine(Widget):
    """One line of styled parts. ``show_parts`` repaints this widget only, never asks for
    a new layout (``Static.update`` would, re-rendering the whole screen on every live
    event). Parts are plain text (``str``) or ``(text, style)``: the text is never parsed
    as markup, so customer text still goes through ``safe_text.literal`` first."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._content = Content("")
        self._parts: list[Part] = []

    def render(self) -> Content:
        return self._content

    def show_parts(self, parts: list[Part]) -> None:
        # Compared as parts: Content equality looks at the text only, not the styles.
        if parts != self._parts:
            self._parts = parts
            self._content = Content.assemble(*parts)
            self.refresh()
