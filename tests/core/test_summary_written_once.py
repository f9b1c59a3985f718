"""One summary per ticket: two workers (a teammate's inbox and a sweeper that took the
lease over, each with its own store) both read the ticket as pending and both get an
answer from their model; only the first write lands. The other writes nothing, adds no
timeline line and announces nothing. Guards the ``summary_state`` condition of the
summary ``UPDATE`` in ``escalation.summarize_ticket``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import select

from inbox_tui.ai.interface import TicketSummary, TranscriptLine
from inbox_tui.core import escalation
from inbox_tui.core.events import EventKind
from inbox_tui.core.models import Event, SummaryState, Ticket, TicketSource, TimelineEvent
from inbox_tui.core.store import Store
from tests.conftest import both_backends
from tests.core.helpers import add_teammate, new_conversation, timeline_codes


class _ModelAtABarrier:
    """A model that answers only once every worker has read the ticket and asked it,
    so both writes meet a ticket that was pending when they read it."""

    name = "barrier-model"
    has_model = True

    def __init__(self, barrier: asyncio.Barrier, subject: str) -> None:
        self.barrier = barrier
        self.subject = subject

    async def summarize(self, transcript: Sequence[TranscriptLine], language: str | None) -> TicketSummary:
        await self.barrier.wait()
        return TicketSummary(self.subject, f"{self.subject}: the parcel is late.", "en")


@both_backends
async def test_two_workers_summarizing_one_ticket_write_one_summary(database_url: str) -> None:
    stores = [Store(database_url), Store(database_url)]
    try:
        ana = await add_teammate(stores[0], "ana")
        started = await new_conversation(stores[0], "c1", first_message="My parcel is late.")
        ticket_id = (
            await escalation.escalate(stores[0], started.conversation.id, source=TicketSource.TAKEOVER, actor_id=ana.id)
        ).ticket_id
        barrier = asyncio.Barrier(2)
        states = await asyncio.gather(
            *(
                escalation.summarize_ticket(
                    store,
                    _ModelAtABarrier(barrier, subject),  # type: ignore[arg-type]
                    ticket_id,
                    timeout=30,
                )
                for store, subject in zip(stores, ("First worker", "Second worker"), strict=True)
            )
        )
        async with stores[0].read() as session:
            ticket = await session.get(Ticket, ticket_id)
            ready = list(
                await session.execute(
                    select(Event.agent_id, Event.payload).where(
                        Event.ticket_id == ticket_id, Event.kind == EventKind.SUMMARY_READY
                    )
                )
            )
            lines = list(
                await session.scalars(
                    select(TimelineEvent.text).where(
                        TimelineEvent.ticket_id == ticket_id, TimelineEvent.code == "summary_ready"
                    )
                )
            )
        codes = await timeline_codes(stores[0], ticket_id)
    finally:
        for store in stores:
            await store.close()
    assert sorted(states, key=str) == [None, SummaryState.READY]  # one wrote, one found it written
    assert ticket is not None and ticket.summary_state == SummaryState.READY
    assert codes.count("summary_ready") == 1
    assert len(ready) == 1
    # The summary on the ticket is the one that was announced, whole (not a mix of both).
    # The event reaches the assignee's inbox with the state and subject it shows.
    assert ready[0].agent_id == ana.id
    assert ready[0].payload == {"state": SummaryState.READY, "subject": ticket.subject}
    assert lines == [f"AI summary ready: {ticket.subject}"]
    assert ticket.summary == f"{ticket.subject}: the parcel is late."


class _CountingModel:
    name = "counting-model"
    has_model = True

    def __init__(self) -> None:
        self.asked = 0

    async def summarize(self, transcript: Sequence[TranscriptLine], language: str | None) -> TicketSummary:
        self.asked += 1
        return TicketSummary("Late parcel", "The parcel is late.", "en")


@both_backends
async def test_a_written_summary_is_not_asked_of_the_model_again(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    started = await new_conversation(store, "c1", first_message="My parcel is late.")
    ticket_id = (
        await escalation.escalate(store, started.conversation.id, source=TicketSource.TAKEOVER, actor_id=ana.id)
    ).ticket_id
    model = _CountingModel()
    assert await escalation.summarize_ticket(store, model, ticket_id, timeout=30) == SummaryState.READY  # type: ignore[arg-type]
    # A late worker (a sweeper that thought this one had died) finds it written.
    assert await escalation.summarize_ticket(store, model, ticket_id, timeout=30) is None  # type: ignore[arg-type]
    assert model.asked == 1
