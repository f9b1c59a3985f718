"""The composer: a reply to the customer or an internal note, with @mention completion.

A reply and a note look different (a note has the warning colour and says it is never
sent to the customer). Send is Ctrl+J, which every terminal delivers; Ctrl+Enter is only
an alias because most terminals never send it. Sending is an intent the screen runs as a
flow; the composer owns its drafts (kept per ticket, written when the typing pauses) and
AI compose, whose result never destroys what the teammate typed: into an empty composer
it is an undoable edit (Ctrl+Z), otherwise it is offered (replace, insert or discard).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import events, on, work
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Static, TextArea

from inbox_tui.core import saved_replies
from inbox_tui.core.models import Author
from inbox_tui.core.records import TicketDetail
from inbox_tui.core.saved_replies import Reply
from inbox_tui.tui import reads
from inbox_tui.tui.drafts import DraftStore
from inbox_tui.tui.safe_text import literal

REPLY = "reply"
NOTE = "note"
PARTIAL_MENTION = re.compile(r"(?<![\w@])@([a-z0-9_.-]*)$", re.IGNORECASE)
# `/` and at least one letter, at the start of a word: a saved reply's shortcut.
PARTIAL_SAVED_REPLY = re.compile(r"(?<!\S)/([a-z0-9][a-z0-9_.-]*)$", re.IGNORECASE)
#: Drafts are written to their file once the typing pauses this long (and on switch/quit).
DRAFT_SAVE_DELAY = 0.8
AI_LABELS = {"draft": "AI draft", "polish": "Polished", "translate": "Translated"}


@dataclass
class AIResult(Message):
    """An AI compose request finished (posted by the composer's worker)."""

    ticket_id: int
    kind: str
    sent_text: str  # the composer's text when the request was made
    result: str


class ComposerInput(TextArea):
    """Tab completes a pending @mention; otherwise it moves focus as everywhere else."""

    async def _on_key(self, event: events.Key) -> None:
        composer = self.parent
        if event.key == "tab" and isinstance(composer, Composer) and composer.completions:
            event.stop()
            event.prevent_default()
            composer.complete_mention()
            return
        if event.key == "tab" and isinstance(composer, Composer) and composer.reply_completions:
            event.stop()
            event.prevent_default()
            composer.complete_saved_reply()
            return
        await super()._on_key(event)


class Composer(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+j,ctrl+enter", "send", "Send", id="composer.send", priority=False),
        Binding("ctrl+n", "toggle_mode", "Reply/note", id="composer.toggle_mode"),
        Binding("ctrl+g", "ai('draft')", "AI draft", id="composer.ai_draft"),
        Binding("ctrl+l", "ai('polish')", "AI polish", id="composer.ai_polish"),
        Binding("ctrl+t", "ai('translate')", "AI translate", id="composer.ai_translate"),
        Binding("ctrl+r", "offer('replace')", "Use the AI text", id="composer.ai_replace"),
        Binding("ctrl+o", "offer('insert')", "Insert the AI text", id="composer.ai_insert"),
        Binding("escape", "leave", "Leave composer (or discard the AI text)", show=False, id="composer.leave"),
    ]

    mode: reactive[str] = reactive(REPLY, init=False)

    class Send(Message):
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
        self.saved: list[Reply] = []  # the team's saved replies, loaded when a ticket opens
        self.reply_completions: list[Reply] = []
        self.agent_name = ""  # fills {agent.name}
        self.drafts: DraftStore | None = None
        self.offer: AIResult | None = None  # an AI result waiting for replace / insert / discard
        self._loading = False
        self._save_timer: Timer | None = None

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="composer-mode")
        offer = Static(id="composer-offer")
        offer.display = False
        yield offer
        area = ComposerInput(id="composer-input", soft_wrap=True, tab_behavior="focus", show_line_numbers=False)
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "offer":
            return self.offer is not None  # in the footer only while there is an offer
        return True

    # ----- tickets and drafts -------------------------------------------------

    def open_ticket(self, ticket_id: int, *, is_open: bool) -> None:
        """The detail pane shows this ticket: its draft, unless it is already here."""
        if self.ticket_id == ticket_id:
            return  # already this ticket's text, maybe typed a moment ago: never overwrite it
        self.save_draft()
        draft = self.drafts.get(ticket_id) if self.drafts else None
        self.load(ticket_id if is_open else None, draft.text if draft else "", draft.mode if draft else REPLY)
        if not is_open:
            self.ticket_id = None
        else:
            self._load_saved_replies()

    @work(exit_on_error=False, group="saved-replies", exclusive=True)
    async def _load_saved_replies(self) -> None:
        runtime = getattr(self.app, "runtime", None)
        if runtime is None:
            return
        self.saved = await reads.read(runtime.store, saved_replies.all_replies)
        self._update_completions()

    def save_draft(self) -> None:
        """Keep this ticket's text and write the drafts file now (switch, quit)."""
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        if self.drafts is None:
            return
        if self.ticket_id is not None and self.is_mounted:
            self.drafts.keep(self.ticket_id, self.text, self.mode)
        self.drafts.save_pending()

    def discard_draft(self, ticket_id: int) -> None:
        if self.ticket_id == ticket_id:
            self.set_text("")
        if self.drafts is not None:
            self.drafts.discard(ticket_id)

    def load(self, ticket_id: int | None, text: str = "", mode: str = REPLY) -> None:
        """Show another ticket's draft (the previous one was saved)."""
        self._loading = True
        self._dismiss_offer()
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
        self.input.border_title = "Internal note" if note else "Reply"
        label = self.query_one("#composer-mode", Static)
        if note:
            label.update(
                Content.assemble(("Internal note", "bold $warning"), (" · not sent to the customer", "$warning"))
            )
        else:
            label.update(
                Content.assemble(("Reply", "bold $primary"), (" · the customer sees it in their chat", "$text-muted"))
            )
        self._show_hint()

    def _show_hint(self) -> None:
        hint = self.query_one("#composer-hint", Static)
        if self.reply_completions:
            shown: list[tuple[str, str]] = [("Tab inserts ", "$text-muted")]
            for reply in self.reply_completions[:4]:
                shown += [
                    (f"/{literal(reply.shortcut, single_line=True)} ", "bold $accent"),
                    (f"{literal(reply.title, single_line=True, limit=30)}  ", "$text-muted"),
                ]
            hint.update(Content.assemble(*shown))
        elif self.completions:
            hint.update(
                Content.assemble(
                    ("Tab completes ", "$text-muted"), *[(f"@{h} ", "bold $accent") for h in self.completions[:6]]
                )
            )
        else:
            hint.update(
                Content.assemble(
                    ("^j", "bold"),
                    (" send ", "$text-muted"),
                    ("^n", "bold"),
                    (" reply/note ", "$text-muted"),
                    ("^g", "bold"),
                    (" draft ", "$text-muted"),
                    ("^l", "bold"),
                    (" polish ", "$text-muted"),
                    ("^t", "bold"),
                    (" translate", "$text-muted"),
                )
            )

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
        if self._loading or self.ticket_id is None or self.drafts is None:
            return
        if self.drafts.keep(self.ticket_id, self.text, self.mode):
            # The file is written once the typing pauses, not on every keystroke.
            if self._save_timer is not None:
                self._save_timer.stop()
            self._save_timer = self.set_timer(DRAFT_SAVE_DELAY, self._write_drafts)

    def _write_drafts(self) -> None:
        self._save_timer = None
        if self.drafts is not None:
            self.drafts.save_pending()

    def _partial(self) -> re.Match[str] | None:
        row, column = self.input.cursor_location
        line = self.input.document.get_line(row)[:column]
        return PARTIAL_MENTION.search(line)

    def _partial_saved_reply(self) -> re.Match[str] | None:
        row, column = self.input.cursor_location
        line = self.input.document.get_line(row)[:column]
        return PARTIAL_SAVED_REPLY.search(line)

    def _update_completions(self) -> None:
        match = self._partial() if self.is_mounted else None
        if match is None:
            self.completions = []
        else:
            prefix = match.group(1).lower()
            self.completions = [h for h in self.handles if h.startswith(prefix) and h != prefix]
        typed = self._partial_saved_reply() if self.is_mounted and self.saved else None
        self.reply_completions = saved_replies.matching(self.saved, typed.group(1)) if typed else []
        if self.is_mounted:
            self._show_hint()

    def complete_saved_reply(self) -> None:
        """Replace ``/shortcut`` with the saved reply, placeholders filled, in the
        customer's language where it has a version; the teammate edits before sending."""
        match = self._partial_saved_reply()
        if match is None or not self.reply_completions:
            return
        detail: TicketDetail | None = getattr(self.parent, "detail", None)
        language = (detail.language or detail.conversation.language) if detail else None
        reply = saved_replies.version_for(self.saved, self.reply_completions[0].shortcut, language)
        if reply is None:
            return
        text = saved_replies.fill(
            reply.body,
            customer_name=detail.ticket.requester if detail else "",
            agent_name=self.agent_name,
            ticket_number=detail.ticket.id if detail else None,
        )
        row, column = self.input.cursor_location
        self.input.replace(text, (row, column - len(match.group(0))), (row, column))

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

    def action_leave(self) -> None:
        if self.offer is not None:
            self._dismiss_offer()
            return
        self.screen.focus_previous()

    # ----- AI compose ---------------------------------------------------------

    def action_ai(self, kind: str) -> None:
        pane = self.parent
        detail: TicketDetail | None = getattr(pane, "detail", None)
        if self.ticket_id is None or detail is None or detail.ticket.id != self.ticket_id:
            self.app.bell()
            return
        language = detail.language or detail.conversation.language
        if kind in ("polish", "translate") and not self.text.strip():
            self.notify(f"Write a draft to {kind} first (or ctrl+g for an AI draft).", severity="warning")
            return
        if kind == "translate" and not language:
            self.notify("The customer's language is not known yet; nothing to translate into.", severity="warning")
            return
        labels = {"draft": "Drafting a reply", "polish": "Polishing", "translate": f"Translating into {language}"}
        self.notify(f"{labels[kind]}… keep typing: your text stays yours.", timeout=3, markup=False)
        self._ai_compose(detail, kind, self.text, language)

    @work(exit_on_error=False, group="ai", exclusive=True)
    async def _ai_compose(self, detail: TicketDetail, kind: str, text: str, language: str | None) -> None:
        # Imported here: the AI (and what it imports) is loaded after the first screen.
        from inbox_tui.ai.interface import AIError, AIUnavailable, TranscriptLine

        runtime = getattr(self.app, "runtime", None)
        if runtime is None:
            return
        ai = runtime.ai
        try:
            if kind == "draft":
                lines = [
                    TranscriptLine(m.author, m.name, m.text) for m in detail.transcript if m.author != Author.SYSTEM
                ]
                notes = [e.text for e in detail.timeline if e.kind == "note"]
                result = await ai.draft_reply(lines, language, notes)
            elif kind == "polish":
                result = await ai.polish(text, language)
            else:
                result = await ai.translate(text, language or "")
        except AIUnavailable:
            self.notify(
                f"AI {kind} is not available offline: it needs a model. Set OPENAI_API_KEY "
                "(and OPENAI_BASE_URL for a compatible server) to draft, polish and translate.",
                severity="warning",
                markup=False,
                timeout=10,
            )
            return
        except (TimeoutError, AIError) as error:
            self.notify(f"AI {kind} failed: {error}. Your text is unchanged.", severity="error", markup=False)
            return
        self.post_message(AIResult(detail.ticket.id, kind, text, result))

    @on(AIResult)
    def _ai_result(self, message: AIResult) -> None:
        message.stop()
        if message.ticket_id != self.ticket_id:
            return  # the teammate moved to another ticket meanwhile
        if not self.text.strip() and not message.sent_text.strip():
            # Nothing typed, before or since: take it as an edit Ctrl+Z undoes.
            self._replace_all(message.result)
            self.input.focus()
            return
        self.offer = message
        box = self.query_one("#composer-offer", Static)
        box.update(
            Content.assemble(
                (f"{AI_LABELS.get(message.kind, 'AI')}: ", "bold $accent"),
                (literal(message.result, single_line=True, limit=200), "italic"),
                ("\n^r replace your text · ^o insert at the cursor · Esc discard", "$text-muted"),
            )
        )
        box.display = True
        self.refresh_bindings()

    def action_offer(self, how: str) -> None:
        offer = self.offer
        if offer is None:
            return
        self._dismiss_offer()
        if how == "replace":
            self._replace_all(offer.result)
        else:
            row, column = self.input.cursor_location
            before = self.input.document.get_line(row)[:column]
            # Words stay apart: a space between what was typed and what is inserted.
            self.input.insert((" " if before and not before[-1].isspace() else "") + offer.result)
        self.input.focus()

    def _replace_all(self, text: str) -> None:
        """One edit on the undo history, unlike ``load_text``."""
        document = self.input.document
        self.input.replace(text, (0, 0), document.end)
        self.input.move_cursor(self.input.document.end)

    def _dismiss_offer(self) -> None:
        if self.offer is None:
            return
        self.offer = None
        if self.is_mounted:
            self.query_one("#composer-offer", Static).display = False
            self.refresh_bindings()
