"""The inbox's views as queries: one page at a time, newest activity first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from inbox_tui.core.agents import agent_ref
from inbox_tui.core.conversations import conversation_row, get_conversation, transcript
from inbox_tui.core.models import (
    Agent,
    Contact,
    Conversation,
    ConversationStatus,
    Mention,
    Ticket,
    TicketStatus,
    TimelineEvent,
    ticket_is_open,
)
from inbox_tui.core.records import AgentRef, ConversationRow, TicketDetail, TicketRow, TimelineEntry
from inbox_tui.core.store import NotFound

PAGE = 200


class View(StrEnum):
    CONVERSATIONS = "conversations"
    ON_YOU = "on_you"
    UNASSIGNED = "unassigned"
    ALL_OPEN = "all_open"
    MENTIONS = "mentions"
    CLOSED = "closed"
    PENDING = "pending"
    SNOOZED = "snoozed"

    @property
    def label(self) -> str:
        """What the inbox calls the view (``title`` would shadow ``str.title``)."""
        return VIEW_TITLES[self]


VIEW_TITLES = {
    View.CONVERSATIONS: "Conversations",
    View.ON_YOU: "On you",
    View.UNASSIGNED: "Unassigned",
    View.ALL_OPEN: "All open",
    View.MENTIONS: "Mentions",
    View.CLOSED: "Closed",
    View.PENDING: "Pending",
    View.SNOOZED: "Snoozed",
}


# Pages select plain columns in the order of the row records: building ORM objects for
# 200 rows cost more than the query itself.
_CONVERSATION_COLUMNS = (
    Conversation.id,
    Conversation.public_id,
    Contact.name,
    Conversation.channel,
    Conversation.language,
    Conversation.status,
    Conversation.ai_enabled,
    Conversation.last_message_preview,
    Conversation.message_count,
    Conversation.last_activity_at,
    Conversation.contact_id,
    Contact.email,
)


def _live(active_since: datetime | None) -> list:  # type: ignore[type-arg]
    """Live conversations; with ``active_since``, only those active since then (a customer
    long gone leaves the list, and comes back with their next message)."""
    where = [Conversation.status == ConversationStatus.LIVE]
    if active_since is not None:
        where.append(Conversation.last_activity_at >= active_since)
    return where


async def conversations(
    session: AsyncSession, limit: int = PAGE, offset: int = 0, *, active_since: datetime | None = None
) -> list[ConversationRow]:
    """Live bot conversations that are not tickets, newest activity first."""
    rows = await session.execute(
        select(*_CONVERSATION_COLUMNS)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(*_live(active_since))
        .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [ConversationRow(*row) for row in rows]


def _ticket_query() -> Select:  # type: ignore[type-arg]
    return (
        select(Ticket, Contact, Agent)
        .join(Contact, Contact.id == Ticket.contact_id)
        .outerjoin(Agent, Agent.id == Ticket.assignee_id)
    )


def _ticket_row(ticket: Ticket, contact: Contact, agent: Agent | None) -> TicketRow:
    return TicketRow(
        id=ticket.id,
        subject=ticket.subject,
        summary_state=ticket.summary_state,
        requester=contact.name,
        channel=ticket.channel,
        status=ticket.status,
        assignee=agent_ref(agent) if agent else None,
        updated_at=ticket.updated_at,
        created_at=ticket.created_at,
        conversation_id=ticket.conversation_id,
        contact_id=ticket.contact_id,
        source=ticket.source,
    )


_TICKET_COLUMNS = (
    Ticket.id,
    Ticket.subject,
    Ticket.summary_state,
    Contact.name,
    Ticket.channel,
    Ticket.status,
    Agent.id,
    Agent.handle,
    Agent.name,
    Ticket.updated_at,
    Ticket.created_at,
    Ticket.conversation_id,
    Ticket.contact_id,
    Ticket.source,
    # The conversation's denormalized latest message and wait (no scan of messages).
    Conversation.last_message_author,
    Conversation.last_message_name,
    Conversation.last_message_preview,
    Conversation.waiting_since,
)


def _ticket_page_query() -> Select:  # type: ignore[type-arg]
    return (
        select(*_TICKET_COLUMNS)
        .join(Contact, Contact.id == Ticket.contact_id)
        .join(Conversation, Conversation.id == Ticket.conversation_id)
        .outerjoin(Agent, Agent.id == Ticket.assignee_id)
    )


def waiting_for(conversation_waiting_since: datetime | None, status: str, created_at: datetime) -> datetime | None:
    """Since when a ticket's customer waits for a teammate (None: not waiting): never
    from before the ticket existed (until then the bot was answering), never on a
    closed ticket."""
    if conversation_waiting_since is None or status == TicketStatus.CLOSED:
        return None
    return max(conversation_waiting_since, created_at)


def _ticket_page_row(row: Sequence) -> TicketRow:  # type: ignore[type-arg]
    (
        ticket_id,
        subject,
        summary_state,
        requester,
        channel,
        status,
        agent_id,
        handle,
        name,
        updated_at,
        created_at,
        conversation_id,
        contact_id,
        source,
        last_author,
        last_name,
        last_preview,
        conversation_waiting_since,
    ) = row
    return TicketRow(
        id=ticket_id,
        subject=subject,
        summary_state=summary_state,
        requester=requester,
        channel=channel,
        status=status,
        assignee=AgentRef(agent_id, handle, name) if agent_id is not None else None,
        updated_at=updated_at,
        created_at=created_at,
        conversation_id=conversation_id,
        contact_id=contact_id,
        source=source,
        waiting_since=waiting_for(conversation_waiting_since, status, created_at),
        last_author=last_author,
        last_name=last_name,
        last_preview=last_preview,
    )


def _ticket_filter(view: View, agent_id: int | None) -> list:  # type: ignore[type-arg]
    if view is View.ON_YOU:
        return [ticket_is_open(), Ticket.assignee_id == agent_id]
    if view is View.UNASSIGNED:
        return [ticket_is_open(), Ticket.assignee_id.is_(None)]
    if view is View.ALL_OPEN:
        return [ticket_is_open()]
    if view is View.CLOSED:
        return [Ticket.status == TicketStatus.CLOSED]
    if view is View.PENDING:
        return [Ticket.status == TicketStatus.WAITING_ON_CUSTOMER]
    if view is View.SNOOZED:
        return [Ticket.status == TicketStatus.SNOOZED]
    if view is View.MENTIONS:
        mentioned = select(Mention.ticket_id).where(Mention.agent_id == agent_id)
        return [Ticket.id.in_(mentioned)]
    raise ValueError(f"{view} is not a ticket view")


async def tickets(
    session: AsyncSession, view: View, agent_id: int | None = None, limit: int = PAGE, offset: int = 0
) -> list[TicketRow]:
    rows = await session.execute(
        _ticket_page_query()
        .where(*_ticket_filter(view, agent_id))
        .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_ticket_page_row(row) for row in rows]


async def page(
    session: AsyncSession,
    view: View,
    agent_id: int | None = None,
    limit: int = PAGE,
    offset: int = 0,
    *,
    active_since: datetime | None = None,
) -> Sequence[ConversationRow] | Sequence[TicketRow]:
    if view is View.CONVERSATIONS:
        return await conversations(session, limit, offset, active_since=active_since)
    return await tickets(session, view, agent_id, limit, offset)


async def counts(
    session: AsyncSession, agent_id: int | None, *, active_since: datetime | None = None
) -> dict[View, int]:
    """Live counts for the sidebar, one query per view on indexed columns."""
    result = {
        View.CONVERSATIONS: int(
            await session.scalar(select(func.count()).select_from(Conversation).where(*_live(active_since))) or 0
        )
    }
    for view in (View.ON_YOU, View.UNASSIGNED, View.ALL_OPEN, View.MENTIONS, View.CLOSED, View.PENDING, View.SNOOZED):
        if view in (View.ON_YOU, View.MENTIONS) and agent_id is None:
            result[view] = 0
            continue
        result[view] = int(
            await session.scalar(select(func.count()).select_from(Ticket).where(*_ticket_filter(view, agent_id))) or 0
        )
    return result


async def previous_tickets(
    session: AsyncSession, contact_id: int, exclude_ticket_id: int | None = None, limit: int = 20
) -> list[TicketRow]:
    query = _ticket_page_query().where(Ticket.contact_id == contact_id)
    if exclude_ticket_id is not None:
        query = query.where(Ticket.id != exclude_ticket_id)
    rows = await session.execute(query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit))
    return [_ticket_page_row(row) for row in rows]


async def ticket_for_conversation(session: AsyncSession, conversation_id: int) -> int | None:
    """The open ticket of a conversation, if any."""
    return await session.scalar(select(Ticket.id).where(Ticket.conversation_id == conversation_id, ticket_is_open()))


async def ticket_detail(session: AsyncSession, ticket_id: int, transcript_limit: int = 500) -> TicketDetail:
    row = (await session.execute(_ticket_query().where(Ticket.id == ticket_id))).first()
    if row is None:
        raise NotFound(f"no ticket #{ticket_id}")
    ticket, contact, _agent = row
    author = aliased(Agent)
    entries = await session.execute(
        select(TimelineEvent, author)
        .outerjoin(author, author.id == TimelineEvent.agent_id)
        .where(TimelineEvent.ticket_id == ticket_id)
        .order_by(TimelineEvent.id)
    )
    return TicketDetail(
        ticket=_ticket_row(*row),
        summary=ticket.summary,
        language=ticket.language,
        reason=ticket.reason,
        conversation=await get_conversation(session, ticket.conversation_id),
        requester_email=contact.email,
        transcript=tuple(await transcript(session, ticket.conversation_id, limit=transcript_limit)),
        timeline=tuple(
            TimelineEntry(e.id, e.kind, e.code, e.text, agent_ref(a) if a else None, e.created_at) for e, a in entries
        ),
        previous_tickets=tuple(await previous_tickets(session, contact.id, ticket.id)),
    )


async def conversation_transcript(session: AsyncSession, conversation_id: int, limit: int = 500):  # type: ignore[no-untyped-def]
    return await transcript(session, conversation_id, limit=limit)


__all__ = [
    "View",
    "conversation_row",
    "conversation_transcript",
    "conversations",
    "counts",
    "page",
    "previous_tickets",
    "ticket_detail",
    "ticket_for_conversation",
    "tickets",
    "waiting_for",
]
