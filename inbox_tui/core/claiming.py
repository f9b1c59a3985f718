"""Claiming an unassigned ticket: it becomes mine, unless someone was faster.

The claim runs under the store's one lock order (the conversation, then its ticket), so
two teammates claiming at once are serialized on the ticket's row: the first one writes
the assignee, the second one reads it under the lock and is told who has the ticket.
SQLite serializes write transactions already (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from inbox_tui.core import events
from inbox_tui.core.agents import agent_ref
from inbox_tui.core.assignment_risks import note_assignment_risk
from inbox_tui.core.conversations import lock_conversation_and_ticket
from inbox_tui.core.customer_status import announce_holder
from inbox_tui.core.events import EventKind, PendingEvent
from inbox_tui.core.models import Agent, TicketStatus
from inbox_tui.core.records import AgentRef
from inbox_tui.core.store import NotFound, Store, StoreError, teammate_flow
from inbox_tui.core.timeline import timeline
from inbox_tui.settings import AssignmentSettings


@dataclass(frozen=True)
class ClaimResult:
    ticket_id: int
    won: bool
    holder: AgentRef | None  # who holds the ticket now (me when ``won``)
    changed: bool = False  # this claim assigned it (not: it was mine already)

    @property
    def text(self) -> str:
        if self.won:
            return f"Ticket #{self.ticket_id} is on you now."
        who = self.holder.label if self.holder else "nobody"
        return f"Ticket #{self.ticket_id} was claimed first by {who}."


async def claim_ticket(
    store: Store, ticket_id: int, agent_id: int, *, assignment: AssignmentSettings | None = None
) -> ClaimResult:
    """Assign an unassigned open ticket to ``agent_id``; the loser of a race gets who
    won. The customer is told who joined (after the commit, in its own transaction)."""
    result = await _claim(store, ticket_id, agent_id)
    if result.changed:
        presence_timeout = timedelta(seconds=(assignment or AssignmentSettings()).presence_timeout)
        await note_assignment_risk(store, ticket_id, agent_id, presence_timeout, present=True)
        await announce_holder(store, ticket_id, presence_timeout, present_agent_id=agent_id)
    return result


@teammate_flow
async def _claim(store: Store, ticket_id: int, agent_id: int) -> ClaimResult:
    now = store.now()
    async with store.write() as session:
        _, ticket = await lock_conversation_and_ticket(session, ticket_id)
        if ticket.status == TicketStatus.CLOSED:
            raise StoreError(f"ticket #{ticket_id} is closed")
        me = await session.get(Agent, agent_id)
        if me is None:
            raise NotFound(f"no teammate {agent_id}")
        if ticket.assignee_id is not None:
            holder = await session.get(Agent, ticket.assignee_id)
            return ClaimResult(ticket_id, ticket.assignee_id == agent_id, agent_ref(holder) if holder else None)
        ticket.assignee_id = me.id
        ticket.updated_at = now
        text = f"Claimed by {me.name} (@{me.handle}) from Unassigned."
        session.add(timeline(ticket.id, now, "claimed", text, me.id))
        await events.append(
            session,
            now,
            PendingEvent(
                EventKind.ASSIGNED, ticket.conversation_id, ticket.id, me.id, {"reason": text, "by": me.handle}
            ),
        )
        return ClaimResult(ticket_id, True, agent_ref(me), changed=True)
