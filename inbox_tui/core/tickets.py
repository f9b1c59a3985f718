"""What teammates do on a ticket: reply, note (with @mentions), reassign, allow AI replies."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core import events
from inbox_tui.core.agents import agent_ref
from inbox_tui.core.assignment_risks import note_assignment_risk
from inbox_tui.core.backlog import hand_out_after_change
from inbox_tui.core.conversations import (
    _check_text,
    append_message,
    lock_conversation_and_ticket,
    message_payload,
    message_record,
)
from inbox_tui.core.customer_status import announce_holder, joined_already, prepare_lines_for, tell
from inbox_tui.core.events import EventKind, PendingEvent
from inbox_tui.core.hand_back import owe_the_unanswered
from inbox_tui.core.models import (
    Agent,
    Author,
    Conversation,
    ConversationStatus,
    Mention,
    Message,
    OwedReply,
    Ticket,
    TicketStatus,
    TimelineKind,
)
from inbox_tui.core.records import AgentRef, MessageRecord
from inbox_tui.core.status_lines import StatusKind
from inbox_tui.core.store import NotFound, Store, StoreError, teammate_flow
from inbox_tui.core.timeline import timeline
from inbox_tui.settings import AssignmentSettings

MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9_.-]{0,31})", re.IGNORECASE)


async def _open_ticket(session: AsyncSession, ticket_id: int) -> tuple[Conversation, Ticket]:
    """The ticket and its conversation, locked in the store's order; refused when closed."""
    conversation, ticket = await lock_conversation_and_ticket(session, ticket_id)
    if ticket.status == TicketStatus.CLOSED:
        raise StoreError(f"ticket #{ticket_id} is closed")
    return conversation, ticket


async def _agent(session: AsyncSession, agent_id: int) -> Agent:
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"no teammate {agent_id}")
    return agent


@teammate_flow
async def send_agent_reply(
    store: Store, ticket_id: int, agent_id: int, text: str, *, client_id: str | None = None
) -> MessageRecord:
    """The customer sees it in the same chat thread. Stored first and queued for delivery
    (``delivered_at`` stays empty until a customer socket took it), so it is never lost."""
    _check_text(text)
    # The first reply may tell the customer who joined, in their language.
    await prepare_lines_for(store, ticket_id)
    now = store.now()
    async with store.write() as session:
        if client_id:
            existing = await session.scalar(
                select(Message)
                .join(Ticket, Ticket.conversation_id == Message.conversation_id)
                .where(Ticket.id == ticket_id, Message.client_id == client_id)
            )
            if existing is not None:
                return message_record(existing)
        conversation, ticket = await _open_ticket(session, ticket_id)
        agent = await _agent(session, agent_id)
        # The customer hears who joined before this teammate's first words, if not yet.
        joined = (
            []
            if await joined_already(session, ticket.id, agent.id)
            else [await tell(session, now, conversation, ticket, StatusKind.JOINED, agent=agent)]
        )
        message = await append_message(
            session,
            now,
            conversation.id,
            author=Author.AGENT,
            text=text,
            name=agent.name,
            client_id=client_id,
            agent_id=agent.id,
        )
        ticket.status = TicketStatus.WAITING_ON_CUSTOMER
        ticket.updated_at = now
        await events.append(
            session,
            now,
            *joined,
            PendingEvent(EventKind.MESSAGE, conversation.id, ticket.id, agent.id, message_payload(message)),
            PendingEvent(
                EventKind.TICKET_UPDATED, conversation.id, ticket.id, ticket.assignee_id, {"status": ticket.status}
            ),
        )
        return message


@dataclass(frozen=True)
class NoteResult:
    note_id: int
    mentioned: tuple[AgentRef, ...]


@teammate_flow
async def add_note(store: Store, ticket_id: int, agent_id: int, text: str) -> NoteResult:
    """An internal note: on the timeline only, never a message, never sent to a customer.
    ``@handle`` of an existing teammate notifies them and lists the ticket in Mentions."""
    _check_text(text)
    now = store.now()
    handles = {h.lower() for h in MENTION.findall(text)}
    async with store.write() as session:
        _, ticket = await lock_conversation_and_ticket(session, ticket_id)
        author = await _agent(session, agent_id)
        note = timeline(ticket.id, now, "note", text, author.id, kind=TimelineKind.NOTE)
        session.add(note)
        await session.flush()
        mentioned = list(await session.scalars(select(Agent).where(Agent.handle.in_(handles)))) if handles else []
        pending = [
            PendingEvent(
                EventKind.NOTE,
                ticket.conversation_id,
                ticket.id,
                author.id,
                {"note_id": note.id, "author": author.handle},
            )
        ]
        for agent in mentioned:
            session.add(
                Mention(note_id=note.id, ticket_id=ticket.id, agent_id=agent.id, author_id=author.id, created_at=now)
            )
            pending.append(
                PendingEvent(
                    EventKind.MENTION,
                    ticket.conversation_id,
                    ticket.id,
                    agent.id,
                    {"note_id": note.id, "by": author.handle},
                )
            )
        ticket.updated_at = now
        await events.append(session, now, *pending)
        return NoteResult(note.id, tuple(agent_ref(a) for a in mentioned))


async def reassign(
    store: Store,
    ticket_id: int,
    to_agent_id: int | None,
    by_agent_id: int | None,
    *,
    assignment: AssignmentSettings | None = None,
) -> AgentRef | None:
    """Any teammate can hand a ticket to another one (or back to Unassigned with None).
    Handing it to someone frees the previous assignee, so the backlog is handed out after
    the commit; a ticket put back to Unassigned is not routed straight back by the rules
    (it waits for the next trigger), or it could bounce to the teammate who let it go."""
    result = await _reassign(store, ticket_id, to_agent_id, by_agent_id)
    if to_agent_id is not None:
        presence_timeout = timedelta(seconds=(assignment or AssignmentSettings()).presence_timeout)
        await note_assignment_risk(store, ticket_id, to_agent_id, presence_timeout, present=to_agent_id == by_agent_id)
        await announce_holder(store, ticket_id, presence_timeout)
        await hand_out_after_change(store, assignment)
    return result


@teammate_flow
async def _reassign(store: Store, ticket_id: int, to_agent_id: int | None, by_agent_id: int | None) -> AgentRef | None:
    now = store.now()
    async with store.write() as session:
        _, ticket = await _open_ticket(session, ticket_id)
        target = await _agent(session, to_agent_id) if to_agent_id is not None else None
        by = await _agent(session, by_agent_id) if by_agent_id is not None else None
        if ticket.assignee_id == (target.id if target else None):
            return agent_ref(target) if target else None
        ticket.assignee_id = target.id if target else None
        ticket.updated_at = now
        who = f"{target.name} (@{target.handle})" if target else "Unassigned"
        text = f"Reassigned to {who}" + (f" by {by.name} (@{by.handle})." if by else ".")
        session.add(timeline(ticket.id, now, "reassigned", text, by.id if by else None))
        await events.append(
            session,
            now,
            PendingEvent(
                EventKind.ASSIGNED,
                ticket.conversation_id,
                ticket.id,
                target.id if target else None,
                {"reason": text, "by": by.handle if by else None},
            ),
        )
        return agent_ref(target) if target else None


async def allow_ai_replies(
    store: Store, ticket_id: int, agent_id: int | None, *, assignment: AssignmentSettings | None = None
) -> None:
    """Hand the conversation back to the bot and close the ticket: one transaction.
    The closed ticket frees its assignee's capacity, so the backlog is handed out after."""
    await _close_to_ai(store, ticket_id, agent_id)
    await hand_out_after_change(store, assignment)


@teammate_flow
async def _close_to_ai(store: Store, ticket_id: int, agent_id: int | None) -> None:
    now = store.now()
    async with store.write() as session:
        conversation, ticket = await _open_ticket(session, ticket_id)
        by = await _agent(session, agent_id) if agent_id is not None else None
        conversation.status = ConversationStatus.LIVE
        conversation.ai_enabled = True
        # A hand-back starts a new epoch: an answer generated before it is stale.
        conversation.epoch = (conversation.epoch or 0) + 1
        await session.execute(delete(OwedReply).where(OwedReply.conversation_id == conversation.id))
        await owe_the_unanswered(session, now, conversation, ticket)
        conversation.last_activity_at = now
        ticket.status = TicketStatus.CLOSED
        ticket.closed_at = now
        ticket.updated_at = now
        who = f" by {by.name} (@{by.handle})" if by else ""
        session.add_all(
            [
                timeline(ticket.id, now, "ai_resumed", f"AI replies allowed again{who}.", by.id if by else None),
                timeline(ticket.id, now, "closed", f"Ticket #{ticket.id} closed{who}.", by.id if by else None),
            ]
        )
        await events.append(
            session,
            now,
            PendingEvent(EventKind.AI_RESUMED, conversation.id, ticket.id, by.id if by else None),
            PendingEvent(
                EventKind.TICKET_CLOSED,
                conversation.id,
                ticket.id,
                ticket.assignee_id,
                {"by": by.handle if by else None},
            ),
        )


@teammate_flow
async def mark_mentions_seen(store: Store, agent_id: int, ticket_id: int) -> None:
    async with store.write() as session:
        rows = await session.scalars(
            select(Mention).where(
                Mention.agent_id == agent_id, Mention.ticket_id == ticket_id, Mention.seen_at.is_(None)
            )
        )
        for mention in rows:
            mention.seen_at = store.now()
