"""The waiting backlog: unassigned open tickets handed out the moment someone can take them.

Flows that can make a teammate eligible (coming online, becoming available, freeing
capacity, changing shifts) call :func:`hand_out_after_change` right after their
transaction commits; :func:`run_shift_watcher` covers the one trigger no flow sees, a
shift starting, by sleeping until the next shift start it computes.

Each ticket is handed out in its own write transaction, oldest first. On PostgreSQL the
team rows are locked first (hand-outs queue there, which keeps oldest-first true under
concurrency), then the ticket is claimed with ``FOR NO KEY UPDATE SKIP LOCKED`` (another process handing out the same
backlog takes the next one instead of waiting) and the assignment rules lock the team
rows, so concurrent hand-outs never assign a ticket twice or overfill a teammate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from inbox_tui.core import events
from inbox_tui.core.assignment import choose_assignee, lock_team, team_shifts
from inbox_tui.core.customer_status import announce_holder
from inbox_tui.core.events import EventKind, PendingEvent
from inbox_tui.core.models import Agent, Ticket, ticket_is_open
from inbox_tui.core.shifts import next_shift_start
from inbox_tui.core.store import Store
from inbox_tui.core.timeline import timeline
from inbox_tui.settings import AssignmentSettings

log = logging.getLogger(__name__)

# The watcher recomputes at least this often, so shifts edited by another process
# (which cannot wake this one) are picked up.
WATCHER_MAX_SLEEP_SECONDS = 600.0
# After a failed round the watcher tries again this soon.
WATCHER_RETRY_SECONDS = 30.0
# Wake a moment after the computed start so the shift has begun by the store's clock.
_WAKE_MARGIN_SECONDS = 0.05


def _waiting_query() -> Select[Ticket]:
    return select(Ticket).where(Ticket.assignee_id.is_(None), ticket_is_open()).order_by(Ticket.created_at, Ticket.id)


async def waiting_count(session: AsyncSession) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.assignee_id.is_(None), ticket_is_open())
        )
        or 0
    )


async def _assign_oldest_waiting(store: Store, settings: AssignmentSettings) -> tuple[str, int | None]:
    """One transaction: claim the oldest waiting ticket and assign it by the rules.
    Returns ("assigned", id), ("nobody", None) or ("empty", None)."""
    now = store.now()
    async with store.write() as session:
        # Team rows first: concurrent hand-outs queue here, so each one sees the
        # assignments before it and the oldest waiting ticket really goes first.
        await lock_team(session)
        # NO KEY UPDATE (key_share): a note being added to the ticket (a foreign-key
        # share lock) does not make it look taken; a reassign or close in flight does.
        ticket = await session.scalar(_waiting_query().limit(1).with_for_update(skip_locked=True, key_share=True))
        if ticket is None:
            return "empty", None
        decision = await choose_assignee(session, now, settings)
        if decision.agent is None:
            return "nobody", None
        ticket.assignee_id = decision.agent.id
        ticket.updated_at = now
        reason = f"From the waiting backlog. {decision.reason}"
        session.add(timeline(ticket.id, now, "assigned", reason, decision.agent.id))
        await events.append(
            session,
            now,
            PendingEvent(
                EventKind.ASSIGNED,
                ticket.conversation_id,
                ticket.id,
                decision.agent.id,
                {"reason": reason, "next_shift": decision.next_shift, "backlog": True},
            ),
        )
        return "assigned", ticket.id


async def hand_out_waiting(store: Store, settings: AssignmentSettings) -> list[int]:
    """Assign waiting (unassigned, open) tickets, oldest first, while someone can take
    them; with the next-shift fallback on, the rest go to the next shift. Returns the
    ids of the tickets assigned."""
    async with store.read() as session:
        waiting = await waiting_count(session)
    assigned: list[int] = []
    # Bounded by the backlog seen at the start: tickets escalated meanwhile were
    # assigned by their own escalation, and a loop can never spin.
    for _ in range(waiting):
        _outcome, ticket_id = await _assign_oldest_waiting(store, settings)
        if ticket_id is None:
            break  # nobody can take the oldest, so nobody can take the rest either
        assigned.append(ticket_id)
        await _announce(store, ticket_id, settings)
    if assigned:
        log.info("handed out %d waiting ticket(s): %s", len(assigned), assigned)
    return assigned


async def _announce(store: Store, ticket_id: int, settings: AssignmentSettings) -> None:
    """Tell the customer who joined; the assignment stands even if this fails."""
    try:
        await announce_holder(store, ticket_id, timedelta(seconds=settings.presence_timeout))
    except Exception:
        log.exception("telling the customer of ticket %s who joined failed", ticket_id)


async def hand_out_after_change(store: Store, settings: AssignmentSettings | None = None) -> list[int]:
    """Hand out the backlog after a flow committed a change that may free a teammate.
    The change itself stands whatever happens here, so a failure is logged, not raised."""
    try:
        return await hand_out_waiting(store, settings or AssignmentSettings())
    except Exception:
        log.exception("handing out the waiting backlog failed")
        return []


async def next_team_shift_start(store: Store, now: datetime) -> datetime | None:
    """The earliest instant after ``now`` at which any teammate's shift starts."""
    async with store.read() as session:
        shifts = await team_shifts(session)
        zones = dict((await session.execute(select(Agent.id, Agent.timezone))).all())
    starts = [
        start
        for agent_id, own in shifts.items()
        if agent_id in zones
        if (start := next_shift_start(own, zones[agent_id], now)) is not None
    ]
    return min(starts) if starts else None


async def _sleep_until(delay: float, stop: asyncio.Event, wake: asyncio.Event | None) -> None:
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waiters.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waiters, timeout=max(0.0, delay), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        for waiter in waiters:
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
    if wake is not None:
        wake.clear()


async def run_shift_watcher(
    store: Store,
    settings: AssignmentSettings,
    stop: asyncio.Event,
    *,
    wake: asyncio.Event | None = None,
    max_sleep: float = WATCHER_MAX_SLEEP_SECONDS,
) -> None:
    """Hand out the backlog now and whenever a teammate's shift starts, until ``stop``.

    Sleeps until the next computed shift start (never longer than ``max_sleep``); set
    ``wake`` when shifts change in this process to recompute at once."""
    while not stop.is_set():
        try:
            await hand_out_waiting(store, settings)
            now = store.now()
            upcoming = await next_team_shift_start(store, now)
        except Exception:
            log.exception("shift watcher: handing out the backlog failed; retrying")
            await _sleep_until(min(max_sleep, WATCHER_RETRY_SECONDS), stop, wake)
            continue
        delay = (
            max_sleep if upcoming is None else min(max_sleep, (upcoming - now).total_seconds() + _WAKE_MARGIN_SECONDS)
        )
        await _sleep_until(delay, stop, wake)
