"""What changes a teammate: availability, presence, edits and shifts.

Each of these may make a teammate able to take waiting tickets, so each hands out the
backlog right after its transaction commits. They sit above the assignment rules and the
backlog (agents → assignment → backlog → team), which keeps the core free of import loops.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, select, update

from inbox_tui.core import events
from inbox_tui.core.agents import _by_handle, agent_ref, validate_timezone
from inbox_tui.core.backlog import hand_out_after_change
from inbox_tui.core.events import EventKind, PendingEvent
from inbox_tui.core.models import Agent, Availability, Presence, Shift
from inbox_tui.core.records import AgentRef
from inbox_tui.core.shifts import WeeklyShift, check_no_overlap, describe_shifts
from inbox_tui.core.store import NotFound, Store, StoreError
from inbox_tui.settings import AssignmentSettings


async def set_availability(
    store: Store, agent_id: int, availability: str, *, assignment: AssignmentSettings | None = None
) -> None:
    """Available or away; becoming available hands out the waiting backlog at once."""
    if availability not in (Availability.AVAILABLE, Availability.AWAY):
        raise StoreError(f"availability is 'available' or 'away', not {availability!r}")
    now = store.now()
    async with store.write() as session:
        agent = await session.get(Agent, agent_id)
        if agent is None:
            raise NotFound(f"no teammate {agent_id}")
        agent.availability = availability
        await events.append(
            session,
            now,
            PendingEvent(EventKind.AGENT_UPDATED, agent_id=agent_id, payload={"availability": availability}),
        )
    if availability == Availability.AVAILABLE:
        await hand_out_after_change(store, assignment)


async def update_agent(
    store: Store,
    handle: str,
    *,
    name: str | None = None,
    capacity: int | None = None,
    timezone: str | None = None,
    assignment: AssignmentSettings | None = None,
) -> AgentRef:
    """Change name, capacity or timezone; more room or another timezone (which moves the
    shifts) may let the teammate take waiting tickets, so the backlog is handed out."""
    now = store.now()
    async with store.write() as session:
        agent = await _by_handle(session, handle)
        if name is not None:
            agent.name = name
        if capacity is not None:
            if capacity < 0:
                raise StoreError("capacity cannot be negative")
            agent.capacity = capacity
        if timezone is not None:
            agent.timezone = validate_timezone(timezone)
        await events.append(session, now, PendingEvent(EventKind.AGENT_UPDATED, agent_id=agent.id))
        updated = agent_ref(agent)
    if capacity is not None or timezone is not None:
        await hand_out_after_change(store, assignment)
    return updated


async def presence_connected(
    store: Store, agent_id: int, node: str, *, assignment: AssignmentSettings | None = None
) -> int:
    """Record a connected agent client; returns the presence id to heartbeat and remove.
    A teammate coming online may take waiting tickets: the backlog is handed out."""
    now = store.now()
    async with store.write() as session:
        presence = Presence(agent_id=agent_id, node=node, connected_at=now, heartbeat_at=now)
        session.add(presence)
        await session.flush()
        await events.append(
            session, now, PendingEvent(EventKind.AGENT_UPDATED, agent_id=agent_id, payload={"online": True})
        )
        presence_id = presence.id
    await hand_out_after_change(store, assignment)
    return presence_id


async def presence_heartbeat(store: Store, presence_ids: list[int]) -> None:
    if presence_ids:
        async with store.write() as session:
            await session.execute(
                update(Presence).where(Presence.id.in_(presence_ids)).values(heartbeat_at=store.now())
            )


async def presence_disconnected(store: Store, presence_id: int) -> None:
    now = store.now()
    async with store.write() as session:
        presence = await session.get(Presence, presence_id)
        if presence is None:
            return
        await session.delete(presence)
        await events.append(
            session, now, PendingEvent(EventKind.AGENT_UPDATED, agent_id=presence.agent_id, payload={"online": False})
        )


async def forget_stale_presence(store: Store, older_than: timedelta) -> None:
    async with store.write() as session:
        await session.execute(delete(Presence).where(Presence.heartbeat_at < store.now() - older_than))


async def get_shifts(store: Store, handle: str) -> list[WeeklyShift]:
    async with store.read() as session:
        agent = await _by_handle(session, handle)
        rows = await session.scalars(select(Shift).where(Shift.agent_id == agent.id))
        return sorted(WeeklyShift(r.weekday, r.start, r.end) for r in rows)


async def set_shifts(
    store: Store,
    handle: str,
    shifts: Sequence[WeeklyShift],
    *,
    assignment: AssignmentSettings | None = None,
) -> AgentRef:
    """Replace a teammate's weekly shifts (none: always on shift). A shift that is running
    now may let them take waiting tickets, so the backlog is handed out after the commit."""
    shifts = sorted(set(shifts))
    check_no_overlap(shifts)
    now = store.now()
    async with store.write() as session:
        agent = await _by_handle(session, handle)
        await session.execute(delete(Shift).where(Shift.agent_id == agent.id))
        session.add_all(Shift(agent_id=agent.id, weekday=s.weekday, start=s.start, end=s.end) for s in shifts)
        await events.append(
            session,
            now,
            PendingEvent(EventKind.AGENT_UPDATED, agent_id=agent.id, payload={"shifts": describe_shifts(shifts)}),
        )
        updated = agent_ref(agent)
    await hand_out_after_change(store, assignment)
    return updated
