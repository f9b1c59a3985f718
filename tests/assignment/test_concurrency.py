"""Several processes assigning at once: no ticket assigned twice, nobody over capacity.
Real processes on the same SQLite file or PostgreSQL database."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from inbox_tui.core.models import Event, TimelineEvent
from inbox_tui.core.store import Store
from tests.assignment.racing import SETTINGS, escalate_in_process, hand_out_in_process, start_conversations
from tests.assignment.support import escalated_ticket, open_load, teammate
from tests.conftest import FixedClock, both_backends
from tests.support.process_race import racing_processes

PROCESSES = 4
pytestmark = pytest.mark.slow


async def assigned_counts(store: Store) -> tuple[Counter[int], Counter[int]]:
    """Per ticket: "assigned" timeline events, and assignment events naming a teammate."""
    async with store.read() as session:
        timeline = Counter(
            await session.scalars(select(TimelineEvent.ticket_id).where(TimelineEvent.code == "assigned"))
        )
        events = Counter(
            await session.scalars(select(Event.ticket_id).where(Event.kind == "assigned", Event.agent_id.is_not(None)))
        )
    return timeline, events


@both_backends
async def test_racing_backlog_hand_outs(store: Store, clock: FixedClock, database_url: str) -> None:
    waiting = [(await escalated_ticket(store, SETTINGS)).ticket_id for _ in range(16)]
    team = [await teammate(store, handle, capacity=3, online=False) for handle in ("ana", "bea", "cid")]
    async with store.write() as session:  # online, without the flow's own hand-out
        from inbox_tui.core.models import Presence

        for agent in team:
            session.add(Presence(agent_id=agent.id, node="n", connected_at=clock(), heartbeat_at=clock()))
    async with racing_processes(hand_out_in_process, [(database_url, clock().isoformat())] * PROCESSES) as race:
        results = await race.results(PROCESSES, timeout=90)
    handed_out = [ticket for result in results for ticket in result]
    assert len(handed_out) == len(set(handed_out)) == 9  # nobody assigned a ticket twice
    assert await open_load(store) == {agent.id: 3 for agent in team}  # nobody over capacity
    # Oldest first: the nine oldest went out.
    assert sorted(handed_out) == waiting[:9]
    timeline, events = await assigned_counts(store)
    assert set(timeline.values()) == {1} and set(events.values()) == {1}
    assert set(timeline) == set(handed_out)


@both_backends
async def test_racing_escalations_respect_capacity(store: Store, clock: FixedClock, database_url: str) -> None:
    team = [await teammate(store, handle, capacity=4) for handle in ("ana", "bea")]
    conversation_ids = await start_conversations(store, 20, "race")
    chunks = [conversation_ids[i::PROCESSES] for i in range(PROCESSES)]
    arguments = [(database_url, clock().isoformat(), chunk) for chunk in chunks]
    async with racing_processes(escalate_in_process, arguments) as race:
        results = await race.results(len(arguments), timeout=90)
    outcomes = [outcome for result in results for outcome in result]
    assert len({ticket for ticket, _ in outcomes}) == 20
    assigned = Counter(agent for _, agent in outcomes if agent is not None)
    assert assigned == {team[0].id: 4, team[1].id: 4}
    assert await open_load(store) == {team[0].id: 4, team[1].id: 4}
