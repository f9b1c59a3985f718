"""``?``: every key of the inbox, as currently mapped (the user's keymap applied)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


def format_keys(keys: str) -> str:
    names = {"question_mark": "?", "slash": "/", "ctrl+j": "ctrl+j", "pagedown": "pgdn", "pageup": "pgup"}
    return ", ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


def help_content(sections: Iterable[tuple[str, Iterable[Binding]]], keymap: Mapping[str, str]) -> Content:
    """Every key as a table whose columns fit their longest entry (rows never wrap)."""
    rows: list[tuple[str, list[tuple[str, str, str]]]] = []
    for title, bindings in sections:
        rows.append(
            (
                title,
                [(format_keys(keymap.get(b.id or "", b.key)), b.description or b.action, b.id or "") for b in bindings],
            )
        )
    keys_width = max((len(keys) for _, entries in rows for keys, _, _ in entries), default=0) + 2
    what_width = max((len(what) for _, entries in rows for _, what, _ in entries), default=0) + 2
    lines: list[Content] = []
    for title, entries in rows:
        lines.append(Content.assemble((title, "bold $accent")))
        for keys, what, binding_id in entries:
            lines.append(
                Content.assemble(
                    (f"  {keys:<{keys_width}}", "bold"), what.ljust(what_width), (binding_id, "$text-muted")
                )
            )
        lines.append(Content(""))
    lines.append(
        Content.assemble(
            ("Remap any key by its id in config.toml, e.g. ", "$text-muted"),
            ('[tui.keymap] "ticket.take_over" = "T"', "bold"),
        )
    )
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: auto; max-width: 95%; height: 90%; border: thick $primary; background: $surface; padding: 0 1;
    }
    HelpScreen #help-text { width: auto; }
    """

    def __init__(self, content: Content) -> None:
        super().__init__()
        self.content = content

    def compose(self):  # type: ignore[no-untyped-def]
        with VerticalScroll() as scroll:
            scroll.border_title = "Keys — Esc closes"
            yield Static(self.content, id="help-text")
