"""Plain, immutable rows that flows and views hand to the server and the TUI.

ORM objects stay inside the core; callers get these, which are safe to keep after the
session is gone and cheap to compare when a list refreshes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AgentRef:
    id: int
    handle: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.name} (@{self.handle})"


@dataclass(frozen=True)
class MessageRecord:
    id: int
    conversation_id: int
    author: str
    name: str
    text: str
    created_at: datetime
    client_id: str | None = None
    agent_id: int | None = None


@dataclass(frozen=True)
class ConversationRow:
    id: int
    public_id: str
    customer_name: str
    channel: str
    language: str | None
    status: str
    ai_enabled: bool
    preview: str
    message_count: int
    last_activity_at: datetime
    contact_id: int
    customer_email: str | None = None  # tells customers of the same name apart
    unread: int = 0  # messages this teammate has not seen (core.read_state)


@dataclass(frozen=True)
class TicketRow:
    id: int
    subject: str
    summary_state: str
    requester: str
    channel: str
    status: str
    assignee: AgentRef | None
    updated_at: datetime
    created_at: datetime
    conversation_id: int
    contact_id: int
    source: str
    # The attention loop's fields (core.attention): filled for the inbox's lists.
    unread: int = 0  # messages this teammate has not seen
    waiting_since: datetime | None = None  # the customer wrote last, unanswered since then
    last_author: str = ""  # who wrote the latest message: customer, bot, agent, system
    last_name: str = ""
    last_preview: str = ""

    @property
    def number(self) -> int:
        return self.id


@dataclass(frozen=True)
class TimelineEntry:
    id: int
    kind: str  # system | note
    code: str
    text: str
    author: AgentRef | None
    created_at: datetime


@dataclass(frozen=True)
class TicketDetail:
    ticket: TicketRow
    summary: str
    language: str | None
    reason: str | None
    conversation: ConversationRow
    requester_email: str | None
    transcript: tuple[MessageRecord, ...]
    timeline: tuple[TimelineEntry, ...]
    previous_tickets: tuple[TicketRow, ...]


@dataclass(frozen=True)
class EscalationResult:
    """What ``escalate`` did. ``created`` is False for everyone who lost the race: they
    get the existing ticket and who holds it."""

    ticket_id: int
    created: bool
    assignee: AgentRef | None
    conversation_id: int
    status: str

    @property
    def holder_text(self) -> str:
        who = self.assignee.label if self.assignee else "nobody yet (unassigned)"
        return f"Ticket #{self.ticket_id} is already held by {who}."
