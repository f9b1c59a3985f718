"""The right-hand pane: a live conversation (read-only, with Take over) or a ticket.

``DetailPane`` owns what it shows: it is given a typed target (a conversation or a
ticket), loads it in a worker and applies the loaded record; with no target (an empty
view) it shows a placeholder, never the previous ticket or an active composer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from textual import on, work
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import var
from textual.widgets import Button, ContentSwitcher, OptionList, Static
from textual.widgets.option_list import Option

from inbox_tui.core import views
from inbox_tui.core.conversations import get_conversation
from inbox_tui.core.models import ConversationStatus, TicketStatus
from inbox_tui.core.records import AgentRef, ConversationRow, MessageRecord, TicketDetail, TicketRow
from inbox_tui.core.store import StoreError
from inbox_tui.tui import reads
from inbox_tui.tui.formatting import summary_pending
from inbox_tui.tui.messages import ConversationLoaded, DetailFailed, DetailShown, TicketLoaded
from inbox_tui.tui.safe_text import literal
from inbox_tui.tui.targets import ConversationTarget, DetailTarget, TicketTarget
from inbox_tui.tui.widgets.composer import Composer
from inbox_tui.tui.widgets.thread_view import ThreadView, render_thread

STATE_LABEL: dict[str, str] = {
    TicketStatus.ON_YOU: "needs a reply",
    TicketStatus.WAITING_ON_CUSTOMER: "waiting on the customer",
    TicketStatus.CLOSED: "closed",
}


def holder_label(ticket: TicketRow, me: AgentRef | None) -> str:
    """Who holds the ticket, from the viewer's side."""
    if ticket.assignee is None:
        return "Unassigned"
    if me is not None and ticket.assignee.id == me.id:
        return "On you"
    return f"On {literal(ticket.assignee.label, single_line=True)}"


class ConversationPane(Vertical):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conversation: ConversationRow | None = None

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="conversation-header", classes="pane-header")
        yield ThreadView(id="conversation-thread")
        with Horizontal(classes="actions"):
            yield Button("Take over (t)", id="take-over", variant="primary", compact=True)

    def show(self, conversation: ConversationRow, transcript: Sequence[MessageRecord], me: AgentRef | None) -> None:
        self.conversation = conversation
        name = literal(conversation.customer_name, single_line=True) or "(no name)"
        states: dict[str, str] = {
            ConversationStatus.LIVE: "talking to the bot" if conversation.ai_enabled else "AI paused",
            ConversationStatus.ESCALATED: "with a teammate",
            ConversationStatus.ENDED: "ended",
        }
        state = states.get(conversation.status, conversation.status)
        self.query_one("#conversation-header", Static).update(
            Content.assemble(
                (name, "bold"),
                (f"  {conversation.channel} · {conversation.language or 'language unknown'} · ", "$text-muted"),
                (state, "$text-muted italic"),
            )
        )
        self.query_one(ThreadView).show(render_thread(transcript))
        # Greyed like its key: only a signed-in teammate takes over a live conversation.
        self.query_one("#take-over", Button).disabled = conversation.status != ConversationStatus.LIVE or me is None


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
        # The composer before the buttons: Tab from the thread reaches it first.
        yield Composer(id="composer", cursor_blink=self.cursor_blink)
        with Horizontal(classes="actions"):
            yield Button("Allow AI (a)", id="allow-ai", variant="success", compact=True)
            yield Button("Reassign (R)", id="reassign", compact=True)

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    def show(self, detail: TicketDetail, me: AgentRef | None) -> None:
        self.detail = detail
        ticket = detail.ticket
        subject = literal(ticket.subject, single_line=True)
        ai = "AI replies on" if detail.conversation.ai_enabled else "AI paused"
        self.query_one("#ticket-header", Static).update(
            Content.assemble(
                (f"#{ticket.id} ", "bold"),
                (subject, "bold") if subject else ("(subject pending)", "italic $text-muted"),
                "\n",
                (holder_label(ticket, me), "bold $accent"),
                (
                    f" · {STATE_LABEL.get(ticket.status, ticket.status)} · "
                    f"{literal(ticket.requester, single_line=True) or '(no name)'} · {ticket.channel} · "
                    f"{detail.language or 'language unknown'} · ",
                    "$text-muted",
                ),
                (ai, "$text-muted"),
            )
        )
        summary = self.query_one("#ticket-summary", Static)
        if summary_pending(ticket.summary_state):
            summary.update(Content.assemble(("summarizing…", "italic $warning")))
        else:
            label = "Summary" if ticket.summary_state == "ready" else "Summary (local fallback)"
            summary.update(Content.assemble((label + ": ", "bold"), literal(detail.summary)))
        self.query_one(ThreadView).show(render_thread(detail.transcript, detail.timeline))
        previous = self.query_one("#previous-tickets", OptionList)
        previous.set_options(
            [
                Option(
                    Content.assemble(
                        (f"#{row.id} ", "bold"),
                        literal(row.subject, single_line=True) or "(no subject)",
                        (f" · {STATE_LABEL.get(row.status, row.status)} · {row.created_at:%Y-%m-%d}", "$text-muted"),
                    ),
                    id=str(row.id),
                )
                for row in detail.previous_tickets
            ]
        )
        previous.set_class(bool(detail.previous_tickets), "-has-tickets")
        is_open = ticket.status != TicketStatus.CLOSED
        for button_id in ("#allow-ai", "#reassign"):
            self.query_one(button_id, Button).disabled = not is_open
        self.composer.display = is_open


class DetailPane(ContentSwitcher):
    """Shows ``target``: loads it, and again whenever :meth:`reload` is asked."""

    target: var[DetailTarget | None] = var(None, init=False)
    me: var[AgentRef | None] = var(None, init=False)

    def __init__(self, *, cursor_blink: bool = True, **kwargs: Any) -> None:
        super().__init__(initial="placeholder", **kwargs)
        self.cursor_blink = cursor_blink
        self.conversation: ConversationRow | None = None
        self.ticket: TicketDetail | None = None

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="placeholder")
        yield ConversationPane(id="conversation-pane")
        yield TicketPane(id="ticket-pane", cursor_blink=self.cursor_blink)

    @property
    def ticket_pane(self) -> TicketPane:
        return self.query_one(TicketPane)

    @property
    def composer(self) -> Composer:
        return self.ticket_pane.composer

    @property
    def open_ticket(self) -> TicketDetail | None:
        """The ticket on screen, if it is the target and still open."""
        ticket = self.shown_ticket
        return ticket if ticket is not None and ticket.ticket.status != TicketStatus.CLOSED else None

    @property
    def shown_ticket(self) -> TicketDetail | None:
        """The ticket on screen, if it is the current target."""
        ticket = self.ticket
        if ticket is None or self.target != TicketTarget(ticket.ticket.id) or self.current != "ticket-pane":
            return None
        return ticket

    @property
    def shown_conversation(self) -> ConversationRow | None:
        conversation = self.conversation
        if (
            conversation is None
            or self.target != ConversationTarget(conversation.id)
            or self.current != "conversation-pane"
        ):
            return None
        return conversation

    def show_placeholder(self, text: str) -> None:
        self.query_one("#placeholder", Static).update(Content(text))
        self.current = "placeholder"
        self.conversation = None

    def watch_target(self, old: DetailTarget | None, new: DetailTarget | None) -> None:
        composer = self.composer
        if isinstance(old, TicketTarget):
            composer.save_draft()
        if new is None:
            composer.load(None)  # an empty view: no ticket, no composer to type into
            return
        self.reload()

    def watch_me(self) -> None:
        if self.ticket is not None and self.current == "ticket-pane":
            self.ticket_pane.show(self.ticket, self.me)

    def reload(self) -> None:
        if self.target is not None:
            self._load(self.target)

    @work(exit_on_error=False, group="detail", exclusive=True)
    async def _load(self, target: DetailTarget) -> None:
        runtime = getattr(self.app, "runtime", None)
        if runtime is None:
            return
        try:
            # Run to its end even when a newer load cancels this one (see ``reads``).
            message = await reads.read(runtime.store, lambda session: _load_target(session, target))
        except StoreError as error:
            self.post_message(DetailFailed(target, str(error)))
            return
        self.post_message(message)

    @on(DetailFailed)
    def _failed(self, message: DetailFailed) -> None:
        if message.target == self.target:
            self.show_placeholder(message.error)

    @on(ConversationLoaded)
    def _conversation_loaded(self, message: ConversationLoaded) -> None:
        if message.target != self.target:
            return  # the selection moved on while it loaded
        self.ticket = None
        self.conversation = message.conversation
        self.query_one(ConversationPane).show(message.conversation, message.transcript, self.me)
        self.current = "conversation-pane"
        self.post_message(DetailShown(message.target, [m.id for m in message.transcript[-20:]], False))

    @on(TicketLoaded)
    def _ticket_loaded(self, message: TicketLoaded) -> None:
        if message.target != self.target:
            return
        detail = message.detail
        first_show = self.ticket is None or self.ticket.ticket.id != detail.ticket.id
        self.ticket = detail
        self.conversation = None
        self.ticket_pane.show(detail, self.me)
        self.current = "ticket-pane"
        self.composer.open_ticket(detail.ticket.id, is_open=detail.ticket.status != TicketStatus.CLOSED)
        self.post_message(DetailShown(message.target, [m.id for m in detail.transcript[-20:]], first_show))


async def _load_target(session: AsyncSession, target: DetailTarget) -> ConversationLoaded | TicketLoaded:
    if isinstance(target, ConversationTarget):
        conversation = await get_conversation(session, target.conversation_id)
        transcript = await views.conversation_transcript(session, target.conversation_id)
        return ConversationLoaded(target, conversation, transcript)
    return TicketLoaded(target, await views.ticket_detail(session, target.ticket_id))
