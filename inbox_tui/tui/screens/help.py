"""``?``: every key of the inbox, as currently mapped (the user's keymap applied)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


def format_keys(keys: str) -> str:
    names = {"question_mark": "?", "slash": "/", "ctrl+j": "ctrl+j", "pagedown": "pgdn", "pageup": "pgup"}
    return ", ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


def help_content(sections: Iterable[tuple[str, Iterable[Binding]]], keymap: Mapping[str, str]) -> Content:
    lines: list[Content] = []
    for title, bindings in sections:
        lines.append(Content.assemble((title, "bold $accent")))
        for binding in bindings:
            keys = keymap.get(binding.id or "", binding.key)
            lines.append(Content.assemble((f"  {format_keys(keys):<22}", "bold"),
                                          (binding.description or binding.action).ljust(40),
                                          (binding.id or "", "$text-muted")))
        lines.append(Content(""))
    lines.append(Content.assemble(("Remap any key by its id in config.toml, e.g. ", "$text-muted"),
                                  ('[tui.keymap] "ticket.take_over" = "T"', "bold")))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90; max-width: 95%; height: 90%; border: thick $primary; background: $surface; padding: 0 1; }
    """

    def __init__(self, content: Content) -> None:
        super().__init__()
        self.content = content

    def compose(self):  # type: ignore[no-untyped-def]
        with VerticalScroll() as scroll:
            scroll.border_title = "Keys — Esc closes"
            yield Static(self.content, id="help-text")
