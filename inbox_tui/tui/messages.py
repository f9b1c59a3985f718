"""Typed messages that the inbox's workers post and its handlers apply.

A worker loads or changes something and posts one of these; the handler on the screen
or pane applies it to the widgets. Tests and the benchmark observe them too
(``App.run_test(message_hook=...)``), so nothing in the product keeps hooks for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from textual.message import Message
from textual.notifications import SeverityLevel

from inbox_tui.core.agents import AgentStatus
from inbox_tui.core.records import AgentRef, ConversationRow, MessageRecord, TicketDetail
from inbox_tui.core.views import View
from inbox_tui.tui.bridge_status import BridgeStatus
from inbox_tui.tui.targets import DetailTarget


@dataclass
class InboxLoaded(Message):
    """What the first screen shows: who I am and the first view's rows."""

    me: AgentRef | None
    last_event_id: int
    view: View
    records: list[Any]


@dataclass
class InboxCompleted(Message):
    """The rest of startup, read after the first paint: the counts and the team."""

    counts: dict[View, int]
    team: list[AgentStatus]
    unread: dict[View, int] = field(default_factory=dict)  # rows I have not seen, per view
    my_tickets: set[int] = field(default_factory=set)  # open tickets on me (for the alert rules)
    on_shift: bool = True
    # The change generations the counts were read after (see ``InboxScreen._flush_dirty``).
    counts_seen: int = 0
    unread_seen: int = 0


@dataclass
class InboxFailed(Message):
    """Startup could not open the database."""

    error: str


@dataclass
class RecordsLoaded(Message):
    view: View
    records: list[Any]
    select: DetailTarget | None = None


@dataclass
class CountsLoaded(Message):
    """Fresh counts; None where they were not counted again (unchanged)."""

    counts: dict[View, int] | None
    unread: dict[View, int] | None = None  # rows I have not seen, per view


@dataclass
class ConversationLoaded(Message):
    target: DetailTarget
    conversation: ConversationRow
    transcript: Sequence[MessageRecord]


@dataclass
class TicketLoaded(Message):
    target: DetailTarget
    detail: TicketDetail


@dataclass
class DetailFailed(Message):
    target: DetailTarget
    error: str


@dataclass
class DetailShown(Message):
    """The detail pane shows ``target`` now (``first_show``: it was not shown just before)."""

    target: DetailTarget
    message_ids: list[int]
    first_show: bool


@dataclass
class LiveBatchLoaded(Message, bubble=False):
    """What the refresher fetched for a burst of events, ready to apply."""

    conversations: list[ConversationRow] = field(default_factory=list)
    toasts: list[str] = field(default_factory=list)
    team: list[AgentStatus] | None = None
    refresh_tickets: bool = False
    reload_detail: bool = False
    message_ids: list[int] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)  # alert texts (toast, bell, desktop)
    # The view totals may have changed (rows came, went or changed state); messages
    # alone change only what is unread.
    totals_changed: bool = True


@dataclass
class MessagesShown(Message):
    """These messages are on the screen now (posted after the repaint that shows them)."""

    message_ids: list[int]


@dataclass
class BridgeStatusChanged(Message):
    status: BridgeStatus


@dataclass
class FlowDone(Message):
    """A flow changed the store (or was refused): say so and refresh what it touched."""

    toast: str | None = None
    severity: SeverityLevel = "information"
    ticket_id: int | None = None  # reload the detail if it shows this ticket
    reload_detail: bool = False  # reload whatever the detail shows
    tickets_changed: bool = True  # the ticket lists and counts may have changed
    clear_draft: int | None = None  # the composer's text for this ticket was sent
    open_ticket: int | None = None  # show this ticket (take over)
    open_in: View | None = None  # … in this view
    availability: str | None = None  # my availability is this now
    counts_changed: bool = False  # only the counts (say, unread ones) may have changed
