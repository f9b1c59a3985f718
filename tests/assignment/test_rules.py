"""The assignment rules on a real database: who is eligible, which rule picks, fallback."""

from __future__ import annotations

from datetime import UTC, datetime

from inbox_tui.core.models import Availability
from inbox_tui.core.store import Store
from inbox_tui.core.team import presence_disconnected, set_availability
from inbox_tui.core.tickets import reassign
from inbox_tui.settings import AssignmentSettings
from tests.assignment.support import assignee_of, escalated_ticket, open_load, teammate, timeline_texts
from tests.conftest import FixedClock, both_backends

NO_FALLBACK = AssignmentSettings(next_shift_fallback=False)


@both_backends
async def test_least_loaded_among_the_available_with_its_reason(store: Store) -> None:
    ana = await teammate(store, "ana")
    bea = await teammate(store, "bea")
    cid = await teammate(store, "cid")
    first = await escalated_ticket(store)
    assert first.assignee == ana  # all at 0: ties go by handle
    assert (await escalated_ticket(store)).assignee == bea
    assert (await escalated_ticket(store)).assignee == cid
    assert (await escalated_ticket(store)).assignee == ana
    assert await open_load(store) == {ana.id: 2, bea.id: 1, cid.id: 1}
    texts = await timeline_texts(store, first.ticket_id, "assigned")
    assert texts == ["Assigned to Ana (@ana): least loaded of 3 available."]


@both_backends
async def test_round_robin_takes_turns_by_last_assignment(store: Store, clock: FixedClock) -> None:
    rule = AssignmentSettings(rule="round_robin")
    ana = await teammate(store, "ana")
    bea = await teammate(store, "bea")
    picked = []
    for _ in range(4):
        result = await escalated_ticket(store, rule)
        picked.append(result.assignee)
        clock.advance(seconds=1)
    assert picked == [ana, bea, ana, bea]
    texts = await timeline_texts(store, 1, "assigned")
    assert texts == ["Assigned to Ana (@ana): round robin among 2 available."]


@both_backends
async def test_away_offline_off_shift_and_full_teammates_are_skipped(store: Store) -> None:
    away = await teammate(store, "away")
    await set_availability(store, away.id, Availability.AWAY)
    await teammate(store, "offline", online=False)
    # Saturday 09:30 UTC: a weekday-only teammate is off shift.
    await teammate(store, "weekdays", shifts=("mon-fri 09:00-17:00",))
    full = await teammate(store, "full", capacity=0)
    on_shift = await teammate(store, "zed", shifts=("sat 09:00-17:00",), capacity=1)
    result = await escalated_ticket(store, NO_FALLBACK)
    assert result.assignee == on_shift
    assert await timeline_texts(store, result.ticket_id, "assigned") == [
        "Assigned to Zed (@zed): least loaded of 1 available."
    ]
    # Zed is full now: the next one waits unassigned.
    waiting = await escalated_ticket(store, NO_FALLBACK)
    assert waiting.assignee is None
    assert await timeline_texts(store, waiting.ticket_id, "unassigned") == [
        "No teammate is available: the ticket waits in Unassigned."
    ]
    assert full.id not in await open_load(store)


@both_backends
async def test_stale_presence_counts_as_offline(store: Store, clock: FixedClock) -> None:
    await teammate(store, "ana")
    clock.advance(seconds=AssignmentSettings().presence_timeout + 1)  # no heartbeat since
    assert (await escalated_ticket(store, NO_FALLBACK)).assignee is None


@both_backends
async def test_takeover_assigns_the_teammate_even_over_capacity(store: Store) -> None:
    ana = await teammate(store, "ana", capacity=1)
    await escalated_ticket(store)
    taken = await escalated_ticket(store, source="takeover", actor_id=ana.id)
    assert taken.assignee == ana
    assert await open_load(store) == {ana.id: 2}
    assert await timeline_texts(store, taken.ticket_id, "assigned") == ["Assigned to Ana (@ana), who took over."]
    # Away and offline do not matter either: the one who took over owns it.
    await set_availability(store, ana.id, Availability.AWAY)
    assert (await escalated_ticket(store, source="takeover", actor_id=ana.id)).assignee == ana


@both_backends
async def test_next_shift_fallback_names_who_and_when(store: Store, clock: FixedClock) -> None:
    clock.now = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # Saturday 03:00 UTC
    ana = await teammate(store, "ana", online=False, timezone="Europe/Lisbon", shifts=("daily 09:00-17:00",))
    await teammate(store, "bob", online=False, timezone="America/New_York", shifts=("daily 09:00-17:00",))
    result = await escalated_ticket(store)
    assert result.assignee == ana  # 09:00 Lisbon (UTC+0) comes before 09:00 New York
    assert await timeline_texts(store, result.ticket_id, "assigned") == [
        "Assigned to Ana (@ana): nobody is available now; next shift: Ana, 09:00 Europe/Lisbon."
    ]


@both_backends
async def test_next_shift_fallback_skips_away_and_full_and_can_be_off(store: Store, clock: FixedClock) -> None:
    clock.now = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # Saturday
    full = await teammate(store, "full", online=False, shifts=("daily 06:00-16:00",), capacity=0)
    away = await teammate(store, "away", online=False, shifts=("daily 07:00-16:00",))
    await set_availability(store, away.id, Availability.AWAY)
    later = await teammate(store, "later", online=False, shifts=("daily 09:00-17:00",))
    cat = await teammate(store, "cat", online=False, shifts=("daily 08:00-16:00",))
    assert (await escalated_ticket(store)).assignee == cat
    assert (await escalated_ticket(store, NO_FALLBACK)).assignee is None
    assert await open_load(store) == {cat.id: 1}
    assert later.id != cat.id and full.id != cat.id


@both_backends
async def test_fallback_next_shift_a_later_day_says_the_weekday(store: Store, clock: FixedClock) -> None:
    clock.now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # Saturday noon
    await teammate(store, "ana", online=False, timezone="Europe/Lisbon", shifts=("mon-fri 09:00-17:00",))
    result = await escalated_ticket(store)
    assert await timeline_texts(store, result.ticket_id, "assigned") == [
        "Assigned to Ana (@ana): nobody is available now; next shift: Ana, Mon 09:00 Europe/Lisbon."
    ]


@both_backends
async def test_nobody_with_shifts_and_nobody_online_leaves_it_waiting(store: Store) -> None:
    ana = await teammate(store, "ana")
    async with store.read() as session:
        from sqlalchemy import select

        from inbox_tui.core.models import Presence

        presence_id = await session.scalar(select(Presence.id).where(Presence.agent_id == ana.id))
    assert presence_id is not None
    await presence_disconnected(store, presence_id)
    result = await escalated_ticket(store)  # fallback on, but nobody has a next shift
    assert result.assignee is None and await assignee_of(store, result.ticket_id) is None


@both_backends
async def test_reassignment_is_a_timeline_event_with_who_did_it(store: Store) -> None:
    ana = await teammate(store, "ana")
    bea = await teammate(store, "bea", online=False)
    result = await escalated_ticket(store)
    assert result.assignee == ana
    await reassign(store, result.ticket_id, bea.id, ana.id)
    assert await assignee_of(store, result.ticket_id) == bea.id
    assert await timeline_texts(store, result.ticket_id, "reassigned") == ["Reassigned to Bea (@bea) by Ana (@ana)."]
