"""A ticket's life beyond open and closed: pending, snoozed, closed with the AI kept
paused, and reopened.

- **Pending** (``waiting_on_customer``): the team waits on the customer. A teammate's
  reply sets it too (``tickets.send_agent_reply``).
- **Snoozed**: out of the way until a time, or until the customer writes. A customer
  message brings a pending or snoozed ticket back to ``on_you`` (in the message's own
  transaction, ``conversations``); a snooze whose time came is woken by
  :func:`wake_snoozed`, which the server runs every few seconds.
- **Close, AI stays paused**: the ticket closes and the bot stays off; if the customer
  writes again, the ticket reopens on its holder (nothing they write goes unseen).
- **Reopen** a closed ticket: like a takeover, under the conversation's lock: the AI is
  paused again (a new epoch: an answer generated before is stale), the ticket is the
  teammate's, and the timeline says why. Refused while the conversation has another
  open ticket (one open ticket per conversation).

**Allow AI replies** keeps its meaning: resume the bot and close, in one step
(``tickets.allow_ai_replies``). Every change here is a timeline event and an event.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core import events
from inbox_tui.core.conversations import lock_conversation_and_ticket
from inbox_tui.core.events import EventKind, PendingEvent
from inbox_tui.core.models import (
    Agent,
    Conversation,
    ConversationStatus,
    OwedReply,
    Ticket,
    TicketStatus,
    ticket_is_open,
)
from inbox_tui.core.store import NotFound, Store, StoreError, teammate_flow
from inbox_tui.core.timeline import timeline


async def _teammate(session: AsyncSession, agent_id: int) -> Agent:
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"no teammate {agent_id}")
    return agent


def _by(agent: Agent) -> str:
    return f"{agent.name} (@{agent.handle})"


async def _open(session: AsyncSession, ticket_id: int) -> tuple[Conversation, Ticket]:
    conversation, ticket = await lock_conversation_and_ticket(session, ticket_id)
    if ticket.status == TicketStatus.CLOSED:
        raise StoreError(f"ticket #{ticket_id} is closed; reopen it first")
    return conversation, ticket


async def _set_status(
    session: AsyncSession,
    now: datetime,
    ticket: Ticket,
    status: TicketStatus,
    entry: tuple[str, str],
    by: Agent | None,
    *,
    until: datetime | None = None,
    **payload: object,
) -> None:
    """The one shape of a status change, under the lock the caller holds: the ticket
    (snoozed ``until``, for a snooze), its timeline ``entry`` (code, text) and the event
    its holder's inbox reads."""
    ticket.status = status
    ticket.snoozed_until = until
    ticket.updated_at = now
    code, text = entry
    session.add(timeline(ticket.id, now, code, text, by.id if by else None))
    await events.append(
        session,
        now,
        PendingEvent(
            EventKind.TICKET_UPDATED,
            ticket.conversation_id,
            ticket.id,
            ticket.assignee_id,
            {"status": ticket.status, "by": by.id if by else None, **payload},
        ),
    )


@teammate_flow
async def set_pending(store: Store, ticket_id: int, agent_id: int) -> None:
    """Waiting on the customer: their next message brings the ticket back."""
    now = store.now()
    async with store.write() as session:
        _, ticket = await _open(session, ticket_id)
        agent = await _teammate(session, agent_id)
        entry = ("pending", f"Waiting on the customer, set by {_by(agent)}.")
        await _set_status(session, now, ticket, TicketStatus.WAITING_ON_CUSTOMER, entry, agent)


@teammate_flow
async def snooze(store: Store, ticket_id: int, agent_id: int, until: datetime | None) -> None:
    """Snoozed until ``until`` (UTC), or with ``None`` until the customer writes."""
    now = store.now()
    if until is not None and until <= now:
        raise StoreError("a snooze must end in the future")
    async with store.write() as session:
        _, ticket = await _open(session, ticket_id)
        agent = await _teammate(session, agent_id)
        when = f"until {until:%Y-%m-%d %H:%M} UTC" if until else "until the customer writes"
        entry = ("snoozed", f"Snoozed {when} by {_by(agent)}.")
        await _set_status(
            session,
            now,
            ticket,
            TicketStatus.SNOOZED,
            entry,
            agent,
            until=until,
            snoozed_until=until.isoformat() if until else None,
        )


async def wake_snoozed(store: Store, limit: int = 100) -> list[int]:
    """Bring back every snooze whose time came (to ``on_you``, its holder alerted by the
    event); returns the tickets woken. Safe to run on several nodes at once: each ticket
    is woken under its conversation's lock, once."""
    now = store.now()
    async with store.read() as session:
        due = list(
            await session.scalars(
                select(Ticket.id)
                .where(
                    Ticket.status == TicketStatus.SNOOZED,
                    Ticket.snoozed_until.is_not(None),
                    Ticket.snoozed_until <= now,
                )
                .order_by(Ticket.snoozed_until)
                .limit(limit)
            )
        )
    woken: list[int] = []
    for ticket_id in due:
        async with store.write() as session:
            _, ticket = await lock_conversation_and_ticket(session, ticket_id)
            # Decided under the lock: the customer (or another node) may have been first,
            # and a reassignment may have changed who holds it.
            if ticket.status != TicketStatus.SNOOZED or ticket.snoozed_until is None or ticket.snoozed_until > now:
                continue
            holder = await session.get(Agent, ticket.assignee_id) if ticket.assignee_id is not None else None
            back = f"back on {_by(holder)}" if holder is not None else "nobody holds it: back in Unassigned"
            # The event names the holder (agent_id): their inbox alerts them.
            await _set_status(
                session, now, ticket, TicketStatus.ON_YOU, ("snooze_ended", f"Snooze ended: {back}."), None, woke=True
            )
            woken.append(ticket_id)
    return woken


@teammate_flow
async def close_keeping_ai_paused(store: Store, ticket_id: int, agent_id: int) -> None:
    """Close the ticket without handing the conversation back to the bot."""
    now = store.now()
    async with store.write() as session:
        conversation, ticket = await _open(session, ticket_id)
        agent = await _teammate(session, agent_id)
        ticket.status = TicketStatus.CLOSED
        ticket.snoozed_until = None
        ticket.closed_at = now
        ticket.updated_at = now
        session.add(
            timeline(
                ticket.id,
                now,
                "closed",
                f"Ticket #{ticket.id} closed by {_by(agent)}. The AI stays paused: "
                "if the customer writes again, the ticket reopens.",
                agent.id,
            )
        )
        await events.append(
            session,
            now,
            PendingEvent(
                EventKind.TICKET_CLOSED,
                conversation.id,
                ticket.id,
                ticket.assignee_id,
                {"by": agent.handle, "ai_paused": True},
            ),
        )


@teammate_flow
async def reopen(store: Store, ticket_id: int, agent_id: int, reason: str = "") -> None:
    """Reopen a closed ticket on ``agent_id``: the AI paused again, and why on the timeline."""
    now = store.now()
    reason = " ".join(reason.split())[:500]
    async with store.write() as session:
        conversation, ticket = await lock_conversation_and_ticket(session, ticket_id)
        if ticket.status != TicketStatus.CLOSED:
            raise StoreError(f"ticket #{ticket_id} is not closed")
        other = await session.scalar(
            select(Ticket.id).where(Ticket.conversation_id == conversation.id, ticket_is_open(), Ticket.id != ticket.id)
        )
        if other is not None:
            raise StoreError(f"this conversation has an open ticket already: #{other}")
        agent = await _teammate(session, agent_id)
        was_running = conversation.ai_enabled
        conversation.status = ConversationStatus.ESCALATED
        conversation.ai_enabled = False
        # Like a takeover: a bot answer generated before this is stale, and owed none.
        conversation.epoch = (conversation.epoch or 0) + 1
        await session.execute(delete(OwedReply).where(OwedReply.conversation_id == conversation.id))
        ticket.status = TicketStatus.ON_YOU
        ticket.assignee_id = agent.id
        ticket.closed_at = None
        ticket.snoozed_until = None
        ticket.updated_at = now
        why = f": {reason}" if reason else " (no reason given)"
        entries = [timeline(ticket.id, now, "reopened", f"Reopened by {_by(agent)}{why}", agent.id)]
        if was_running:
            entries.append(timeline(ticket.id, now, "ai_paused", "AI replies paused for this conversation.", agent.id))
        entries.append(timeline(ticket.id, now, "assigned", f"Assigned to {_by(agent)}.", agent.id))
        session.add_all(entries)
        pending = [
            PendingEvent(
                EventKind.TICKET_UPDATED,
                conversation.id,
                ticket.id,
                agent.id,
                {"status": ticket.status, "by": agent.id, "reopened": True},
            ),
            PendingEvent(EventKind.ASSIGNED, conversation.id, ticket.id, agent.id, {"by": agent.handle}),
        ]
        if was_running:
            pending.append(PendingEvent(EventKind.AI_PAUSED, conversation.id, ticket.id, agent.id))
        await events.append(session, now, *pending)
