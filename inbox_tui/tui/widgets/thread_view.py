"""The read-only transcript, interleaved with the ticket timeline.

Customer, bot and teammate messages, system events and internal notes each look
different; a note says it is internal. All of it is built as ``Content`` from literal
strings, so nothing a customer wrote is ever parsed as markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from inbox_tui.core.models import Author, TimelineKind
from inbox_tui.core.records import MessageRecord, TimelineEntry
from inbox_tui.tui.safe_text import literal

MENTION = re.compile(r"(?<![\w@])@[a-z0-9][a-z0-9_.-]{0,31}", re.IGNORECASE)

AUTHOR_STYLE: dict[str, str] = {
    Author.CUSTOMER: "bold $secondary",
    Author.BOT: "bold $text-muted",
    Author.AGENT: "bold $primary",
    Author.SYSTEM: "italic $text-muted",
}
AUTHOR_LABEL: dict[str, str] = {
    Author.CUSTOMER: "customer",
    Author.BOT: "bot",
    Author.AGENT: "teammate",
    Author.SYSTEM: "system",
}


def _clock(at: datetime) -> str:
    return at.strftime("%H:%M")


def _message(message: MessageRecord) -> list[Content]:
    role = AUTHOR_LABEL.get(message.author, message.author)
    name = literal(message.name, single_line=True) or role
    if name.casefold() == role.casefold():
        # A system line (a handoff) has no one behind it: say "system" once.
        header = Content.assemble(
            (name, AUTHOR_STYLE.get(message.author, "bold")), (f" · {_clock(message.created_at)}", "$text-muted")
        )
    else:
        header = Content.assemble(
            (name, AUTHOR_STYLE.get(message.author, "bold")),
            (f"  {role} · {_clock(message.created_at)}", "$text-muted"),
        )
    style = "italic $text-muted" if message.author == Author.SYSTEM else ""
    body = [Content.assemble(("  " + line, style)) for line in literal(message.text).splitlines() or [""]]
    return [header, *body]


def _with_mentions(text: str) -> Content:
    parts: list[str | tuple[str, str]] = []
    last = 0
    for match in MENTION.finditer(text):
        parts.append(text[last : match.start()])
        parts.append((match.group(0), "bold $accent"))
        last = match.end()
    parts.append(text[last:])
    return Content.assemble(*parts)


def _timeline(entry: TimelineEntry) -> list[Content]:
    if entry.kind == TimelineKind.NOTE:
        who = entry.author.label if entry.author else "a teammate"
        header = Content.assemble(
            ("▌ ", "$warning"),
            ("Internal note", "bold $warning"),
            (
                f" · {literal(who, single_line=True)} · {_clock(entry.created_at)} · not sent to the customer",
                "$text-muted",
            ),
        )
        lines = [
            Content.assemble(("▌ ", "$warning"), _with_mentions(literal(line)))
            for line in entry.text.splitlines() or [""]
        ]
        return [header, *lines]
    return [
        Content.assemble(
            ("── ", "$text-muted"),
            (_clock(entry.created_at) + " ", "$text-muted"),
            (literal(entry.text, single_line=True), "italic $text-muted"),
        )
    ]


def render_thread(
    transcript: Sequence[MessageRecord],
    timeline: Sequence[TimelineEntry] = (),
    message_lines: dict[int, int] | None = None,
) -> Content:
    """Messages and timeline entries in time order (a message first on a tie: it caused them).
    ``message_lines``, if given, is filled with each message's first line (to scroll to it)."""
    items: list[tuple[datetime, int, int, object]] = [(m.created_at, 0, m.id, m) for m in transcript]
    items += [(e.created_at, 1, e.id, e) for e in timeline]
    items.sort(key=lambda item: item[:3])
    lines: list[Content] = []
    previous_was_system = False
    for _at, _order, _id, item in items:
        is_system = isinstance(item, TimelineEntry) and item.kind != TimelineKind.NOTE
        if lines and lines[-1].plain and not (is_system and previous_was_system):
            lines.append(Content(""))  # a blank line between blocks; system events stay packed
        if message_lines is not None and isinstance(item, MessageRecord):
            message_lines[item.id] = len(lines)
        lines += _message(item) if isinstance(item, MessageRecord) else _timeline(item)  # type: ignore[arg-type]
        previous_was_system = is_system
    if not lines:
        return Content.from_markup("[$text-muted italic]No messages yet.[/]")
    while lines and not lines[-1].plain:
        lines.pop()
    return Content("\n").join(lines)


class ThreadView(VerticalScroll, can_focus=True):
    """Scrolls with j/k like the list; pinned to the newest message until scrolled up."""

    DEFAULT_CSS = """
    ThreadView { height: 1fr; padding: 0 1; }
    ThreadView > Static { width: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", id="thread.down"),
        Binding("k", "scroll_up", "Up", id="thread.up"),
    ]

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(Content(""), id="thread-text")

    def on_mount(self) -> None:
        self.anchor()

    def show(self, content: Content, at_line: int | None = None) -> None:
        """Show ``content``; with ``at_line``, scrolled to that line (a search hit) instead
        of pinned to the newest message."""
        self.query_one("#thread-text", Static).update(content)
        if at_line is not None:
            self.call_after_refresh(self._scroll_to_line, content, at_line)

    def _scroll_to_line(self, content: Content, line: int) -> None:
        # Long lines wrap: count the rows the lines above take at the current width.
        width = max(1, self.scrollable_content_region.width)
        rows = sum(max(1, -(-above.cell_length // width)) for above in content.split("\n")[:line])
        self.release_anchor()
        self.scroll_to(y=rows, animate=False, immediate=True)

    @property
    def plain(self) -> str:
        return str(self.query_one("#thread-text", Static).content)
