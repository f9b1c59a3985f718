"""Assignment rules: who gets an escalated ticket.

Called inside the escalation transaction. Candidates are teammates who are available,
online (a connected client) and under capacity; the configured rule picks one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core.agents import AgentStatus, team_status
from inbox_tui.core.models import Agent, Availability
from inbox_tui.core.records import AgentRef
from inbox_tui.settings import AssignmentSettings


@dataclass(frozen=True)
class AssignmentDecision:
    agent: AgentRef | None
    reason: str


def eligible(status: AgentStatus) -> bool:
    return status.availability == Availability.AVAILABLE and status.online and status.has_room


async def choose_assignee(
    session: AsyncSession, now: datetime, settings: AssignmentSettings
) -> AssignmentDecision:
    team = await team_status(session, now, timedelta(seconds=settings.presence_timeout))
    candidates = [s for s in team if eligible(s)]
    if not candidates:
        return AssignmentDecision(None, "No teammate is available: the ticket waits in Unassigned.")
    if settings.rule == "round_robin":
        last = dict((await session.execute(
            select(Agent.id, Agent.last_assigned_at).where(Agent.id.in_([c.agent.id for c in candidates]))
        )).all())
        floor = datetime.min.replace(tzinfo=now.tzinfo)
        chosen = min(candidates, key=lambda c: (last.get(c.agent.id) or floor, c.agent.handle))
        reason = f"round robin among {len(candidates)} available"
    else:
        chosen = min(candidates, key=lambda c: (c.open_tickets, c.agent.handle))
        reason = f"least loaded of {len(candidates)} available"
    agent = await session.get(Agent, chosen.agent.id)
    if agent is not None:
        agent.last_assigned_at = now
    return AssignmentDecision(chosen.agent, f"Assigned to {chosen.agent.label}: {reason}.")
