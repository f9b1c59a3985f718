"""Waiting tickets are handed out, oldest first, the moment someone can take them."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from inbox_tui.core.agents import add_agent
from inbox_tui.core.backlog import hand_out_waiting, next_team_shift_start, run_shift_watcher
from inbox_tui.core.models import Availability
from inbox_tui.core.shifts import parse_shift_specs
from inbox_tui.core.store import Store
from inbox_tui.core.team import presence_connected, set_availability, set_shifts, update_agent
from inbox_tui.core.tickets import allow_ai_replies, reassign
from inbox_tui.settings import AssignmentSettings
from tests.assignment.support import assignee_of, escalated_ticket, open_load, teammate, timeline_texts
from tests.conftest import FixedClock, both_backends

NO_FALLBACK = AssignmentSettings(next_shift_fallback=False)


async def waiting_tickets(store: Store, n: int, clock: FixedClock) -> list[int]:
    ids = []
    for _ in range(n):
        result = await escalated_ticket(store, NO_FALLBACK)
        assert result.assignee is None
        ids.append(result.ticket_id)
        clock.advance(seconds=10)
    return ids


@both_backends
async def test_coming_online_hands_out_oldest_first_up_to_capacity(store: Store, clock: FixedClock) -> None:
    tickets = await waiting_tickets(store, 4, clock)
    ana, _ = await add_agent(store, "ana", "Ana", capacity=2)
    assert await hand_out_waiting(store, NO_FALLBACK) == []  # offline: nobody to take them
    await presence_connected(store, ana.id, "node-1", assignment=NO_FALLBACK)
    assert [await assignee_of(store, t) for t in tickets] == [ana.id, ana.id, None, None]
    assert await timeline_texts(store, tickets[0], "assigned") == [
        "From the waiting backlog. Assigned to Ana (@ana): least loaded of 1 available."
    ]


@both_backends
async def test_becoming_available_hands_out(store: Store, clock: FixedClock) -> None:
    ana = await teammate(store, "ana")
    await set_availability(store, ana.id, Availability.AWAY)
    tickets = await waiting_tickets(store, 2, clock)
    await set_availability(store, ana.id, Availability.AVAILABLE, assignment=NO_FALLBACK)
    assert await open_load(store) == {ana.id: 2}
    assert [await assignee_of(store, t) for t in tickets] == [ana.id, ana.id]


@both_backends
async def test_closing_a_ticket_frees_capacity_for_the_oldest_waiting(store: Store, clock: FixedClock) -> None:
    ana = await teammate(store, "ana", capacity=1)
    first = await escalated_ticket(store, NO_FALLBACK)
    assert first.assignee == ana
    clock.advance(seconds=1)
    older, newer = await waiting_tickets(store, 2, clock)
    await allow_ai_replies(store, first.ticket_id, ana.id, assignment=NO_FALLBACK)
    assert await assignee_of(store, older) == ana.id
    assert await assignee_of(store, newer) is None


@both_backends
async def test_more_capacity_and_reassigning_away_hand_out(store: Store, clock: FixedClock) -> None:
    ana = await teammate(store, "ana", capacity=1)
    bea = await teammate(store, "bea", capacity=0)
    mine = await escalated_ticket(store, NO_FALLBACK)
    assert mine.assignee == ana
    first, second = await waiting_tickets(store, 2, clock)
    await update_agent(store, "bea", capacity=1, assignment=NO_FALLBACK)
    assert await assignee_of(store, first) == bea.id
    # Ana hands her ticket to Bea (over Bea's capacity: a person decided), Ana has room again.
    await reassign(store, mine.ticket_id, bea.id, ana.id, assignment=NO_FALLBACK)
    assert await assignee_of(store, second) == ana.id


@both_backends
async def test_back_to_unassigned_does_not_bounce_straight_back(store: Store, clock: FixedClock) -> None:
    ana = await teammate(store, "ana")
    result = await escalated_ticket(store, NO_FALLBACK)
    await reassign(store, result.ticket_id, None, ana.id, assignment=NO_FALLBACK)
    assert await assignee_of(store, result.ticket_id) is None


@both_backends
async def test_shift_starting_hands_out(store: Store, clock: FixedClock) -> None:
    ana = await teammate(store, "ana", shifts=("sat 10:00-18:00",))  # online, off shift at 09:30
    tickets = await waiting_tickets(store, 2, clock)
    settings = AssignmentSettings(next_shift_fallback=False, presence_timeout=3600)
    assert await hand_out_waiting(store, settings) == []
    clock.now = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    assert await hand_out_waiting(store, settings) == tickets
    assert await open_load(store) == {ana.id: 2}


@both_backends
async def test_new_shift_that_runs_now_hands_out(store: Store, clock: FixedClock) -> None:
    ana = await teammate(store, "ana", shifts=("mon 09:00-17:00",))
    [ticket] = await waiting_tickets(store, 1, clock)
    await set_shifts(store, "ana", parse_shift_specs(["sat 09:00-17:00"]), assignment=NO_FALLBACK)
    assert await assignee_of(store, ticket) == ana.id


@both_backends
async def test_fallback_backlog_goes_to_the_next_shift(store: Store, clock: FixedClock) -> None:
    [ticket] = await waiting_tickets(store, 1, clock)
    ana, _ = await add_agent(store, "ana", "Ana", timezone="Europe/Lisbon")  # offline
    await set_shifts(store, "ana", parse_shift_specs(["sun 09:00-17:00"]), assignment=NO_FALLBACK)
    assert await assignee_of(store, ticket) is None
    assert await hand_out_waiting(store, AssignmentSettings(next_shift_fallback=True)) == [ticket]
    assert await assignee_of(store, ticket) == ana.id
    assert await timeline_texts(store, ticket, "assigned") == [
        "From the waiting backlog. Assigned to Ana (@ana): nobody is available now; "
        "next shift: Ana, Sun 09:00 Europe/Lisbon."
    ]


class RunningClock:
    """Pinned to a chosen instant, then running at real speed (for the watcher's sleep)."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.began = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began)


@both_backends
async def test_shift_watcher_sleeps_until_the_shift_starts_then_hands_out(database_url: str) -> None:
    # 1.5 s before Ana's shift starts at 10:00 UTC on a Saturday.
    clock = RunningClock(datetime(2026, 11, 21, 9, 59, 58, 500_000, tzinfo=UTC))
    store = Store(database_url, clock=clock)
    stop = asyncio.Event()
    try:
        ana = await teammate(store, "ana", shifts=("sat 10:00-18:00",))
        [ticket] = [(await escalated_ticket(store, NO_FALLBACK)).ticket_id]
        assert await assignee_of(store, ticket) is None
        assert await next_team_shift_start(store, clock()) == datetime(2026, 11, 21, 10, tzinfo=UTC)
        # Keep Ana's presence fresh the way a connected client's heartbeat would.
        watcher = asyncio.create_task(run_shift_watcher(store, NO_FALLBACK, stop))
        deadline = time.monotonic() + 10
        while await assignee_of(store, ticket) is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assigned_at = clock()
        assert await assignee_of(store, ticket) == ana.id
        assert assigned_at >= datetime(2026, 11, 21, 10, tzinfo=UTC)
        stop.set()
        await asyncio.wait_for(watcher, 5)
    finally:
        stop.set()
        await store.close()


@both_backends
async def test_shift_watcher_wakes_on_demand_and_stops(store: Store, clock: FixedClock) -> None:
    stop, wake = asyncio.Event(), asyncio.Event()
    watcher = asyncio.create_task(run_shift_watcher(store, NO_FALLBACK, stop, wake=wake))
    await asyncio.sleep(0.2)  # first round done, sleeping (no shifts: up to max_sleep)
    [ticket] = await waiting_tickets(store, 1, clock)
    ana, _ = await add_agent(store, "ana", "Ana")
    async with store.write() as session:  # online without the flow's own hand-out
        from inbox_tui.core.models import Presence

        session.add(Presence(agent_id=ana.id, node="n", connected_at=clock(), heartbeat_at=clock()))
    wake.set()
    for _ in range(50):
        if await assignee_of(store, ticket) == ana.id:
            break
        await asyncio.sleep(0.1)
    assert await assignee_of(store, ticket) == ana.id
    stop.set()
    await asyncio.wait_for(watcher, 5)
