"""The composer: a reply to the customer or an internal note, with @mention completion.

A reply and a note look different (a note has the warning colour and says it is never
sent to the customer). Send is Ctrl+J, which every terminal delivers; Ctrl+Enter is only
an alias because most terminals never send it. The composer only posts intents; the
app runs the flows in workers.
"""

from __future__ import annotations

import re
from typing import Any

from textual import events
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static, TextArea

REPLY = "reply"
NOTE = "note"
PARTIAL_MENTION = re.compile(r"(?<![\w@])@([a-z0-9_.-]*)$", re.IGNORECASE)


class ComposerInput(TextArea):
    """Tab completes a pending @mention; otherwise it moves focus as everywhere else."""

    async def _on_key(self, event: events.Key) -> None:
        composer = self.parent
        if event.key == "tab" and isinstance(composer, Composer) and composer.completions:
            event.stop()
            event.prevent_default()
            composer.complete_mention()
            return
        await super()._on_key(event)


class Composer(Vertical):
    BINDINGS = [
        Binding("ctrl+j,ctrl+enter", "send", "Send", id="composer.send", priority=False),
        Binding("ctrl+n", "toggle_mode", "Reply/note", id="composer.toggle_mode"),
        Binding("ctrl+g", "ai('draft')", "AI draft", id="composer.ai_draft"),
        Binding("ctrl+l", "ai('polish')", "AI polish", id="composer.ai_polish"),
        Binding("ctrl+t", "ai('translate')", "AI translate", id="composer.ai_translate"),
        Binding("escape", "leave", "Leave composer", show=False, id="composer.leave"),
    ]

    mode: reactive[str] = reactive(REPLY, init=False)

    class Send(Message):
        def __init__(self, ticket_id: int, mode: str, text: str) -> None:
            super().__init__()
            self.ticket_id = ticket_id
            self.mode = mode
            self.text = text

    class AIRequest(Message):
        def __init__(self, ticket_id: int, kind: str, text: str) -> None:
            super().__init__()
            self.ticket_id = ticket_id
            self.kind = kind
            self.text = text

    class DraftChanged(Message):
        def __init__(self, ticket_id: int, mode: str, text: str) -> None:
            super().__init__()
            self.ticket_id = ticket_id
            self.mode = mode
            self.text = text

    def __init__(self, *, cursor_blink: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cursor_blink = cursor_blink
        self.ticket_id: int | None = None
        self.handles: list[str] = []
        self.completions: list[str] = []
        self._loading = False

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="composer-mode")
        area = ComposerInput(id="composer-input", soft_wrap=True, tab_behavior="focus",
                             show_line_numbers=False)
        area.cursor_blink = self.cursor_blink
        yield area
        yield Static(id="composer-hint")

    def on_mount(self) -> None:
        self._show_mode()

    @property
    def input(self) -> TextArea:
        return self.query_one(ComposerInput)

    @property
    def text(self) -> str:
        return self.input.text

    def load(self, ticket_id: int | None, text: str = "", mode: str = REPLY) -> None:
        """Show another ticket's draft (the app saved the previous one)."""
        self._loading = True
        self.ticket_id = ticket_id
        self.input.load_text(text)
        self.input.move_cursor(self.input.document.end)
        self.mode = mode if mode in (REPLY, NOTE) else REPLY
        self._show_mode()
        self._update_completions()
        self._loading = False

    def set_text(self, text: str) -> None:
        self.input.load_text(text)
        self.input.move_cursor(self.input.document.end)

    def start(self, mode: str) -> None:
        self.mode = mode
        # Focus now, not after the next refresh: keys typed right after `r` (or pasted)
        # must land in the composer, never run as shortcuts (`a` would close the ticket).
        self.screen.set_focus(self.input)

    def watch_mode(self) -> None:
        self._show_mode()
        self._changed()

    def _show_mode(self) -> None:
        if not self.is_mounted:
            return
        note = self.mode == NOTE
        self.set_class(note, "-note")
        label = self.query_one("#composer-mode", Static)
        if note:
            label.update(Content.assemble(("Internal note", "bold $warning"),
                                          (" · not sent to the customer", "$warning")))
        else:
            label.update(Content.assemble(("Reply", "bold $primary"),
                                          (" · the customer sees it in their chat", "$text-muted")))
        self._show_hint()

    def _show_hint(self) -> None:
        hint = self.query_one("#composer-hint", Static)
        if self.completions:
            hint.update(Content.assemble(("Tab completes ", "$text-muted"),
                                         *[(f"@{h} ", "bold $accent") for h in self.completions[:6]]))
        else:
            hint.update(Content.assemble(
                ("^j", "bold"), (" send ", "$text-muted"), ("^n", "bold"), (" reply/note ", "$text-muted"),
                ("^g", "bold"), (" draft ", "$text-muted"), ("^l", "bold"), (" polish ", "$text-muted"),
                ("^t", "bold"), (" translate", "$text-muted")))

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self._update_completions()
        self._changed()

    def on_text_area_selection_changed(self, event: TextArea.SelectionChanged) -> None:
        event.stop()
        self._update_completions()

    def on_click(self, event: events.Click) -> None:
        # A click on the "Reply / Internal note" line switches, for mouse users.
        if event.widget is not None and event.widget.id == "composer-mode":
            self.action_toggle_mode()

    def _changed(self) -> None:
        if not self._loading and self.ticket_id is not None:
            self.post_message(self.DraftChanged(self.ticket_id, self.mode, self.text))

    def _partial(self) -> re.Match[str] | None:
        row, column = self.input.cursor_location
        line = self.input.document.get_line(row)[:column]
        return PARTIAL_MENTION.search(line)

    def _update_completions(self) -> None:
        match = self._partial() if self.is_mounted else None
        if match is None:
            self.completions = []
        else:
            prefix = match.group(1).lower()
            self.completions = [h for h in self.handles if h.startswith(prefix) and h != prefix]
        if self.is_mounted:
            self._show_hint()

    def complete_mention(self) -> None:
        match = self._partial()
        if match is None or not self.completions:
            return
        row, column = self.input.cursor_location
        start = (row, column - len(match.group(1)))
        self.input.replace(self.completions[0] + " ", start, (row, column))

    def action_send(self) -> None:
        if self.ticket_id is None:
            self.app.bell()
            return
        self.post_message(self.Send(self.ticket_id, self.mode, self.text))

    def action_toggle_mode(self) -> None:
        self.mode = NOTE if self.mode == REPLY else REPLY

    def action_ai(self, kind: str) -> None:
        if self.ticket_id is not None:
            self.post_message(self.AIRequest(self.ticket_id, kind, self.text))

    def action_leave(self) -> None:
        self.screen.focus_previous()
