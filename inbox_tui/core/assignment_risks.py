"""Giving a ticket to a teammate who cannot take it well: beyond their capacity, away,
or offline. The inbox asks before doing it (:func:`assignment_risk`), and the ticket's
timeline records that it was done anyway (:func:`note_assignment_risk`)."""

from __future__ import annotations

from datetime import timedelta

from inbox_tui.core.agents import AgentStatus, team_status
from inbox_tui.core.conversations import lock_conversation_and_ticket
from inbox_tui.core.models import Availability, TicketStatus
from inbox_tui.core.store import Store
from inbox_tui.core.timeline import timeline

RISK_CODE = "assigned_despite"


def assignment_risk(status: AgentStatus, *, holds_it: bool = False, present: bool = False) -> str | None:
    """Why giving this teammate one more ticket needs a yes, or None. ``holds_it``: the
    ticket is counted in their load already; ``present``: they are the one acting."""
    reasons = []
    load = status.open_tickets + (0 if holds_it else 1)
    if load > status.capacity:
        reasons.append(f"beyond capacity ({load} open, capacity {status.capacity})")
    if status.availability == Availability.AWAY:
        reasons.append("away")
    if not status.online and not present:
        reasons.append("offline")
    if not reasons:
        return None
    return f"{status.agent.label} is " + " and ".join(reasons)


async def note_assignment_risk(
    store: Store, ticket_id: int, agent_id: int, presence_timeout: timedelta, *, present: bool = False
) -> str | None:
    """After the ticket went to ``agent_id``: write on its timeline what was risky about
    it, if anything. Returns the note."""
    now = store.now()
    async with store.write() as session:
        _, ticket = await lock_conversation_and_ticket(session, ticket_id)
        if ticket.status == TicketStatus.CLOSED or ticket.assignee_id != agent_id:
            return None
        status = next((s for s in await team_status(session, now, presence_timeout) if s.agent.id == agent_id), None)
        if status is None:
            return None
        risk = assignment_risk(status, holds_it=True, present=present)
        if risk is not None:
            session.add(timeline(ticket.id, now, RISK_CODE, f"Assigned although {risk}.", agent_id))
        return risk
