"""What needs a teammate: list pages with unread counts, how long a customer has
waited, the latest message; unread counts per view; the two list orders.

"Waiting": the customer wrote last and no teammate has answered since. A ticket waits
from the first customer message after the last teammate reply, but never from before the
ticket existed (until then the bot was answering).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core import views
from inbox_tui.core.conversations import preview_of
from inbox_tui.core.models import Author, Message, Ticket, TicketStatus, ticket_is_open
from inbox_tui.core.read_state import (
    chunks,
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


def waiting_for(first_unanswered: datetime | None, ticket_created: datetime) -> datetime | None:
    """Since when a ticket's customer waits for a teammate (None: not waiting)."""
    if first_unanswered is None:
        return None
    return max(first_unanswered, ticket_created)


async def first_unanswered(session: AsyncSession, conversation_ids: Iterable[int]) -> dict[int, datetime]:
    """Per conversation whose customer wrote after the last teammate reply: the time
    of the first such message."""
    result: dict[int, datetime] = {}
    for batch in chunks(conversation_ids):
        last_reply = (
            select(Message.conversation_id, func.max(Message.id).label("reply_id"))
            .where(Message.conversation_id.in_(batch), Message.author == Author.AGENT)
            .group_by(Message.conversation_id)
            .subquery()
        )
        rows = await session.execute(
            select(Message.conversation_id, func.min(Message.id))
            .outerjoin(last_reply, last_reply.c.conversation_id == Message.conversation_id)
            .where(
                Message.conversation_id.in_(batch),
                Message.author == Author.CUSTOMER,
                Message.id > func.coalesce(last_reply.c.reply_id, 0),
            )
            .group_by(Message.conversation_id)
        )
        first_ids: dict[int, int] = {c: m for c, m in rows}  # noqa: C416 - rows are Row objects
        if first_ids:
            times = await session.execute(
                select(Message.id, Message.created_at).where(Message.id.in_(list(first_ids.values())))
            )
            at = dict(times.all())
            result.update({c: at[m] for c, m in first_ids.items() if m in at})
    return result


async def latest_messages(session: AsyncSession, conversation_ids: Iterable[int]) -> dict[int, tuple[str, str, str]]:
    """(author, name, text) of each conversation's latest message."""
    result: dict[int, tuple[str, str, str]] = {}
    for batch in chunks(conversation_ids):
        latest = (
            select(func.max(Message.id))
            .where(Message.conversation_id.in_(batch))
            .group_by(Message.conversation_id)
            .scalar_subquery()
        )
        rows = await session.execute(
            select(Message.conversation_id, Message.author, Message.name, Message.text).where(Message.id.in_(latest))
        )
        result.update({c: (a, n, t) for c, a, n, t in rows})
    return result


async def annotate_tickets(session: AsyncSession, rows: Sequence[TicketRow], agent_id: int | None) -> list[TicketRow]:
    ids = [row.conversation_id for row in rows]
    unread = await unread_counts(session, agent_id, ids) if agent_id is not None else {}
    open_ids = [row.conversation_id for row in rows if row.status != TicketStatus.CLOSED]
    unanswered = await first_unanswered(session, open_ids)
    latest = await latest_messages(session, ids)
    annotated = []
    for row in rows:
        author, name, text = latest.get(row.conversation_id, ("", "", ""))
        first = unanswered.get(row.conversation_id) if row.status != TicketStatus.CLOSED else None
        annotated.append(
            replace(
                row,
                unread=unread.get(row.conversation_id, 0),
                waiting_since=waiting_for(first, row.created_at),
                last_author=author,
                last_name=name,
                last_preview=preview_of(text),
            )
        )
    return annotated


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
    "first_unanswered",
    "latest_messages",
    "page",
    "sort_key",
    "unread_view_counts",
    "waiting_for",
]
