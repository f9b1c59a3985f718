"""The right-hand pane: a live conversation (read-only, with Take over) or a ticket."""

from __future__ import annotations

from typing import Any

from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from inbox_tui.core.models import ConversationStatus, TicketStatus
from inbox_tui.core.records import ConversationRow, MessageRecord, TicketDetail
from inbox_tui.tui.formatting import status_label, summary_pending
from inbox_tui.tui.safe_text import literal
from inbox_tui.tui.widgets.composer import Composer
from inbox_tui.tui.widgets.thread_view import ThreadView, render_thread


class ConversationPane(Vertical):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conversation: ConversationRow | None = None

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="conversation-header", classes="pane-header")
        yield ThreadView(id="conversation-thread")
        with Horizontal(classes="actions"):
            yield Button("Take over (t)", id="take-over", variant="primary", compact=True)

    def show(self, conversation: ConversationRow, transcript: tuple[MessageRecord, ...] | list[MessageRecord]) -> None:
        self.conversation = conversation
        name = literal(conversation.customer_name, single_line=True) or "(no name)"
        states: dict[str, str] = {
            ConversationStatus.LIVE: "talking to the bot" if conversation.ai_enabled else "AI paused",
            ConversationStatus.ESCALATED: "with a teammate", ConversationStatus.ENDED: "ended"}
        state = states.get(conversation.status, conversation.status)
        self.query_one("#conversation-header", Static).update(Content.assemble(
            (name, "bold"), (f"  {conversation.channel} · {conversation.language or 'language unknown'} · ",
                             "$text-muted"), (state, "$text-muted italic")))
        self.query_one(ThreadView).show(render_thread(transcript))
        self.query_one("#take-over", Button).disabled = conversation.status != ConversationStatus.LIVE


class TicketPane(Vertical):
    def __init__(self, *, cursor_blink: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.detail: TicketDetail | None = None
        self.cursor_blink = cursor_blink

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="ticket-header", classes="pane-header")
        yield Static(id="ticket-summary")
        yield ThreadView(id="ticket-thread")
        previous = OptionList(id="previous-tickets")
        previous.border_title = "Previous tickets of this requester (p)"
        yield previous
        with Horizontal(classes="actions"):
            yield Button("Allow AI (a)", id="allow-ai", variant="success", compact=True)
            yield Button("Reassign (R)", id="reassign", compact=True)
        yield Composer(id="composer", cursor_blink=self.cursor_blink)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    def show(self, detail: TicketDetail) -> None:
        self.detail = detail
        ticket = detail.ticket
        subject = literal(ticket.subject, single_line=True)
        assignee = ticket.assignee.label if ticket.assignee else "Unassigned"
        ai = "AI replies on" if detail.conversation.ai_enabled else "AI paused"
        self.query_one("#ticket-header", Static).update(Content.assemble(
            (f"#{ticket.id} ", "bold"),
            (subject, "bold") if subject else ("(subject pending)", "italic $text-muted"),
            "\n",
            (status_label(ticket.status, ticket.assignee is not None), "bold $accent"),
            (f" · {literal(assignee, single_line=True)} · "
             f"{literal(ticket.requester, single_line=True) or '(no name)'} · {ticket.channel} · "
             f"{detail.language or 'language unknown'} · ", "$text-muted"),
            (ai, "$text-muted"),
        ))
        summary = self.query_one("#ticket-summary", Static)
        if summary_pending(ticket.summary_state):
            summary.update(Content.assemble(("summarizing…", "italic $warning")))
        else:
            label = "Summary" if ticket.summary_state == "ready" else "Summary (local fallback)"
            summary.update(Content.assemble((label + ": ", "bold"), literal(detail.summary)))
        self.query_one(ThreadView).show(render_thread(detail.transcript, detail.timeline))
        previous = self.query_one("#previous-tickets", OptionList)
        previous.set_options([
            Option(Content.assemble((f"#{row.id} ", "bold"),
                                    literal(row.subject, single_line=True) or "(no subject)",
                                    (f" · {status_label(row.status)} · {row.created_at:%Y-%m-%d}", "$text-muted")),
                   id=f"t{row.id}")
            for row in detail.previous_tickets
        ])
        previous.display = bool(detail.previous_tickets)
        is_open = ticket.status != TicketStatus.CLOSED
        for button_id in ("#allow-ai", "#reassign"):
            self.query_one(button_id, Button).disabled = not is_open
        self.composer.display = is_open
