"""What needs a teammate: list pages with unread counts, how long a customer has
waited, the latest message; unread counts per view; the two list orders.

"Waiting": the customer wrote last and no teammate has answered since. A ticket waits
from the first customer message after the last teammate reply, but never from before the
ticket existed (until then the bot was answering). The conversation row keeps that first
message's time and the latest message (``Conversation.waiting_since`` and
``last_message_*``, written with each message); ``views.waiting_for`` applies the ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core import views
from inbox_tui.core.models import Ticket, ticket_is_open
from inbox_tui.core.read_state import (
    unread_counts,
    unread_live_conversations,
    unread_mentions,
    unread_tickets,
)
from inbox_tui.core.records import ConversationRow, TicketRow
from inbox_tui.core.views import View


class SortOrder(StrEnum):
    NEWEST = "newest"  # newest activity first
    LONGEST_WAITING = "waiting"  # the customer who has waited longest first


async def annotate_tickets(session: AsyncSession, rows: Sequence[TicketRow], agent_id: int | None) -> list[TicketRow]:
    """The rows with this teammate's unread counts (the wait and the latest message come
    with the rows already, from their conversation)."""
    if agent_id is None:
        return list(rows)
    unread = await unread_counts(session, agent_id, [row.conversation_id for row in rows])
    return [replace(row, unread=unread[row.conversation_id]) if row.conversation_id in unread else row for row in rows]


async def annotate_conversations(
    session: AsyncSession, rows: Sequence[ConversationRow], agent_id: int | None
) -> list[ConversationRow]:
    if agent_id is None:
        return list(rows)
    unread = await unread_counts(session, agent_id, [row.id for row in rows])
    return [replace(row, unread=unread.get(row.id, 0)) if row.id in unread else row for row in rows]


async def page(
    session: AsyncSession,
    view: View,
    agent_id: int | None = None,
    limit: int = views.PAGE,
    *,
    active_since: datetime | None = None,
) -> list[ConversationRow] | list[TicketRow]:
    """``views.page`` with the attention fields filled in for this teammate."""
    rows: Any = await views.page(session, view, agent_id, limit, active_since=active_since)
    if view is View.CONVERSATIONS:
        return await annotate_conversations(session, rows, agent_id)
    return await annotate_tickets(session, rows, agent_id)


async def unread_view_counts(session: AsyncSession, agent_id: int | None) -> dict[View, int]:
    """Per view, how many of its rows have something this teammate has not seen;
    Mentions: tickets with a mention they have not seen."""
    if agent_id is None:
        return {}
    return {
        View.CONVERSATIONS: await unread_live_conversations(session, agent_id),
        View.ON_YOU: await unread_tickets(session, agent_id, ticket_is_open(), Ticket.assignee_id == agent_id),
        View.UNASSIGNED: await unread_tickets(session, agent_id, ticket_is_open(), Ticket.assignee_id.is_(None)),
        View.ALL_OPEN: await unread_tickets(session, agent_id, ticket_is_open()),
        View.MENTIONS: await unread_mentions(session, agent_id),
    }


def sort_key(order: SortOrder) -> Any:
    """The list order of ticket rows (ascending): newest activity, or the longest
    waiting customer first with the rows that do not wait after them, newest first."""
    if order is SortOrder.LONGEST_WAITING:
        return lambda r: (
            r.waiting_since is None,
            r.waiting_since.timestamp() if r.waiting_since else -r.updated_at.timestamp(),
            -r.id,
        )
    return lambda r: (-r.updated_at.timestamp(), -r.id)


__all__ = [
    "SortOrder",
    "annotate_conversations",
    "annotate_tickets",
    "page",
    "sort_key",
    "unread_view_counts",
]
