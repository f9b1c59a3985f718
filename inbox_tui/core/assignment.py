"""Assignment rules: who gets a ticket that nobody took over.

Called inside a write transaction (the escalation, or a backlog hand-out). Candidates
are teammates who are available, online (a connected client), on shift (a teammate
with no shifts is always on shift) and under capacity; the configured rule picks one.
With nobody eligible and the next-shift fallback on, the ticket goes to the teammate
whose shift starts next (available, with room), so it has an owner when the day begins.

Concurrency: on PostgreSQL the team's rows are locked (``FOR NO KEY UPDATE``, in id
order) before the load is counted, so two processes assigning at once see each other's
assignments and never push a teammate over capacity. SQLite write transactions
(``BEGIN IMMEDIATE``) are serialized already.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core.agents import AgentStatus, team_status
from inbox_tui.core.models import Agent, Availability, Shift
from inbox_tui.core.records import AgentRef
from inbox_tui.core.shifts import WeeklyShift, describe_start, is_on_shift, next_shift_start
from inbox_tui.settings import AssignmentSettings


@dataclass(frozen=True)
class AssignmentDecision:
    agent: AgentRef | None
    reason: str
    # True when nobody was eligible and the ticket went to the next shift.
    next_shift: bool = False
    # When that next shift starts (what the customer is told).
    starts_at: datetime | None = None


@dataclass(frozen=True)
class TeamMember:
    """A teammate with everything the rules look at."""

    status: AgentStatus
    shifts: tuple[WeeklyShift, ...]
    on_shift: bool
    next_shift_start: datetime | None

    @property
    def eligible(self) -> bool:
        return eligible(self.status) and self.on_shift


def eligible(status: AgentStatus) -> bool:
    """Available, online and under capacity (shifts are checked by :class:`TeamMember`)."""
    return status.availability == Availability.AVAILABLE and status.online and status.has_room


async def team_shifts(session: AsyncSession) -> dict[int, tuple[WeeklyShift, ...]]:
    rows = await session.scalars(select(Shift).order_by(Shift.agent_id, Shift.weekday, Shift.start))
    by_agent: dict[int, list[WeeklyShift]] = {}
    for row in rows:
        by_agent.setdefault(row.agent_id, []).append(WeeklyShift(row.weekday, row.start, row.end))
    return {agent_id: tuple(shifts) for agent_id, shifts in by_agent.items()}


async def team_members(session: AsyncSession, now: datetime, settings: AssignmentSettings) -> list[TeamMember]:
    """Every teammate with availability, presence, load and shifts, by handle."""
    team = await team_status(session, now, timedelta(seconds=settings.presence_timeout))
    shifts = await team_shifts(session)
    members = []
    for status in team:
        own = shifts.get(status.agent.id, ())
        members.append(
            TeamMember(status, own, is_on_shift(own, status.timezone, now), next_shift_start(own, status.timezone, now))
        )
    return members


async def lock_team(session: AsyncSession) -> None:
    """Serialize assigners on PostgreSQL (see the module doc); a no-op on SQLite."""
    if (await session.connection()).dialect.name == "postgresql":
        await session.execute(select(Agent.id).order_by(Agent.id).with_for_update(key_share=True))


def _pick_by_rule(
    candidates: list[TeamMember], last_assigned: dict[int, datetime | None], now: datetime, rule: str
) -> tuple[TeamMember, str]:
    if rule == "round_robin":
        floor = datetime.min.replace(tzinfo=now.tzinfo)
        chosen = min(candidates, key=lambda m: (last_assigned.get(m.status.agent.id) or floor, m.status.agent.handle))
        return chosen, f"round robin among {len(candidates)} available"
    chosen = min(candidates, key=lambda m: (m.status.open_tickets, m.status.agent.handle))
    return chosen, f"least loaded of {len(candidates)} available"


def _next_shift_candidate(members: list[TeamMember]) -> TeamMember | None:
    """The teammate whose shift starts next and who could take the ticket then."""
    waiting = [
        m
        for m in members
        if m.next_shift_start is not None and m.status.has_room and m.status.availability == Availability.AVAILABLE
    ]
    if not waiting:
        return None
    return min(waiting, key=lambda m: (m.next_shift_start, m.status.open_tickets, m.status.agent.handle))


async def choose_assignee(session: AsyncSession, now: datetime, settings: AssignmentSettings) -> AssignmentDecision:
    """Pick the assignee by the rules; records the round-robin turn on the chosen one."""
    await lock_team(session)
    members = await team_members(session, now, settings)
    candidates = [m for m in members if m.eligible]
    if not candidates:
        if settings.next_shift_fallback:
            upcoming = _next_shift_candidate(members)
            if upcoming is not None and upcoming.next_shift_start is not None:
                who = upcoming.status.agent
                when = describe_start(upcoming.next_shift_start, upcoming.status.timezone, now)
                return AssignmentDecision(
                    who,
                    f"Assigned to {who.label}: nobody is available now; next shift: {who.name}, {when}.",
                    next_shift=True,
                    starts_at=upcoming.next_shift_start,
                )
        return AssignmentDecision(None, "No teammate is available: the ticket waits in Unassigned.")
    # Only round robin looks at the last turn; least loaded saves the round trip.
    last_assigned = (
        dict(
            (
                await session.execute(
                    select(Agent.id, Agent.last_assigned_at).where(
                        Agent.id.in_([m.status.agent.id for m in candidates])
                    )
                )
            ).all()
        )
        if settings.rule == "round_robin"
        else {}
    )
    chosen, reason = _pick_by_rule(candidates, last_assigned, now, settings.rule)
    agent = await session.get(Agent, chosen.status.agent.id)
    if agent is not None:
        agent.last_assigned_at = now
    return AssignmentDecision(chosen.status.agent, f"Assigned to {chosen.status.agent.label}: {reason}.")
