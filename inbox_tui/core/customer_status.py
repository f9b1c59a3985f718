"""What the customer is told about who holds their conversation, and only what is true.

A customer hears "Ana has joined the conversation" only when Ana is actually assigned and
online (a takeover, a claim, an assignment to a connected teammate) or when her first
reply arrives. While the ticket waits in Unassigned they hear that they are in the
queue; when the next-shift fallback holds it, when the team is back. The words, in the
customer's language, come from ``status_lines``; a flow that may need the model's
translation prepares it before its write transaction.

Each line is a system message in the chat (stored, delivered like any other) and a
timeline event whose code records what was said, so a teammate is announced once.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core import events
from inbox_tui.core.agents import online_agent_ids_query
from inbox_tui.core.assignment import team_members
from inbox_tui.core.conversations import (
    append_message,
    known_time_zone,
    lock_conversation_and_ticket,
    message_payload,
)
from inbox_tui.core.events import EventKind, PendingEvent
from inbox_tui.core.models import Agent, Author, Contact, Conversation, Ticket, TicketStatus, TimelineEvent
from inbox_tui.core.status_lines import StatusKind, status_lines
from inbox_tui.core.store import Store
from inbox_tui.core.timeline import timeline
from inbox_tui.settings import AssignmentSettings

#: The timeline code that records a line the customer was told (``joined`` names the teammate).
TOLD_CODE = "customer_told"


def status_text(kind: str, language: str | None, **values: str) -> str:
    """The line in the customer's language as this process knows it now (see
    ``status_lines``); values are substituted literally."""
    return status_lines().text(kind, language, **values)


def back_at_label(start: datetime, time_zone: str | None = None, now: datetime | None = None) -> str:
    """When the team is back, in the customer's own time zone where their client sent one
    (else UTC): ``09:00 CET``; the date too when that is not the customer's today. Digits
    and zone abbreviations read the same in every language of the line around them."""
    zone = ZoneInfo(known_time_zone(time_zone) or "UTC")
    local = start.astimezone(zone)
    abbreviation = local.tzname() or "UTC"
    if abbreviation[:1] in "+-":  # zones without a letter abbreviation: ``-03``
        abbreviation = f"UTC{abbreviation}"
    same_day = now is not None and now.astimezone(zone).date() == local.date()
    return local.strftime("%H:%M" if same_day or now is None else "%Y-%m-%d %H:%M") + f" {abbreviation}"


async def customer_time_zone(session: AsyncSession, conversation: Conversation) -> str | None:
    return await session.scalar(select(Contact.time_zone).where(Contact.id == conversation.contact_id))


async def tell(
    session: AsyncSession,
    now: datetime,
    conversation: Conversation,
    ticket: Ticket,
    kind: str,
    *,
    agent: Agent | None = None,
    when: str = "",
) -> PendingEvent:
    """Store the line as a system message and record it on the timeline; the caller
    holds the conversation's lock and appends the returned event."""
    text = status_text(kind, conversation.language or ticket.language, name=agent.name if agent else "", when=when)
    session.add(
        timeline(
            ticket.id,
            now,
            TOLD_CODE,
            f"The customer was told: {text}",
            agent.id if agent else None,
        )
    )
    message = await append_message(session, now, conversation.id, author=Author.SYSTEM, text=text, name="")
    return PendingEvent(EventKind.MESSAGE, conversation.id, ticket.id, payload=message_payload(message))


async def prepare_lines_for(store: Store, ticket_id: int) -> None:
    """Have the model translate the lines for this ticket's customer, if their language
    needs it, before a write transaction that may tell them something. Reads nothing
    when no model is configured (the lines are all known then)."""
    lines = status_lines()
    if lines.translator is None or not lines.translator.has_model:
        return
    async with store.read() as session:
        language = (
            await session.execute(
                select(Conversation.language, Ticket.language)
                .join(Ticket, Ticket.conversation_id == Conversation.id)
                .where(Ticket.id == ticket_id)
            )
        ).first()
    if language is not None:
        await lines.prepare(language[0] or language[1])


async def _last_told(session: AsyncSession, ticket_id: int) -> TimelineEvent | None:
    return await session.scalar(
        select(TimelineEvent)
        .where(TimelineEvent.ticket_id == ticket_id, TimelineEvent.code == TOLD_CODE)
        .order_by(TimelineEvent.id.desc())
        .limit(1)
    )


async def joined_already(session: AsyncSession, ticket_id: int, agent_id: int) -> bool:
    """Whether the customer's latest status line announced this teammate (only a
    joined line is recorded with a teammate's id)."""
    told = await _last_told(session, ticket_id)
    return told is not None and told.agent_id == agent_id


async def announce_holder(
    store: Store, ticket_id: int, presence_timeout: timedelta, *, present_agent_id: int | None = None
) -> bool:
    """After an assignment that happened outside the escalation (backlog hand-out,
    reassign, claim): tell the customer who joined, if that teammate is online and was
    not announced already. Its own transaction, in the store's lock order. Returns
    whether a line was sent. ``present_agent_id``: a teammate known to be at the
    keyboard (the one claiming), online whether or not a client of theirs is connected."""
    await prepare_lines_for(store, ticket_id)
    now = store.now()
    async with store.write() as session:
        conversation, ticket = await lock_conversation_and_ticket(session, ticket_id)
        if ticket.status == TicketStatus.CLOSED or ticket.assignee_id is None:
            return False
        online = set(await session.scalars(online_agent_ids_query(now, presence_timeout)))
        if present_agent_id is not None:
            online.add(present_agent_id)
        if ticket.assignee_id not in online or await joined_already(session, ticket.id, ticket.assignee_id):
            return False
        agent = await session.get(Agent, ticket.assignee_id)
        if agent is None:
            return False
        await events.append(
            session, now, await tell(session, now, conversation, ticket, StatusKind.JOINED, agent=agent)
        )
        return True


async def tell_holder(
    session: AsyncSession,
    now: datetime,
    conversation: Conversation,
    ticket: Ticket,
    assignment: AssignmentSettings,
) -> PendingEvent:
    """The line for the ticket's holder as it is now: joined (online), back at (the
    next-shift fallback holds it), or queued. The caller holds the conversation's lock."""
    if ticket.assignee_id is not None:
        members = {m.status.agent.id: m for m in await team_members(session, now, assignment)}
        member = members.get(ticket.assignee_id)
        agent = await session.get(Agent, ticket.assignee_id)
        if member is not None and member.status.online and agent is not None:
            return await tell(session, now, conversation, ticket, StatusKind.JOINED, agent=agent)
        if member is not None and member.next_shift_start is not None:
            zone = await customer_time_zone(session, conversation)
            when = back_at_label(member.next_shift_start, zone, now)
            return await tell(session, now, conversation, ticket, StatusKind.BACK_AT, when=when)
    return await tell(session, now, conversation, ticket, StatusKind.QUEUED)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{(?:name|when)\}", template)
    return re.compile(".+".join(re.escape(part) for part in parts) + r"\Z", re.DOTALL)


def is_status_line(text: str) -> bool:
    """Whether ``text`` is one of the lines this process tells customers: built in,
    configured or translated (tests, transcripts)."""
    return any(_pattern(template).match(text) for template in status_lines().templates())
