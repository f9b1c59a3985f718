"""Building blocks for assignment tests: teammates, waiting tickets, timelines."""

from __future__ import annotations

from itertools import count

from sqlalchemy import func, select

from inbox_tui.core import conversations, escalation
from inbox_tui.core.agents import add_agent
from inbox_tui.core.escalation import EscalationSettings
from inbox_tui.core.models import Ticket, TicketStatus, TimelineEvent
from inbox_tui.core.records import AgentRef, EscalationResult
from inbox_tui.core.shifts import parse_shift_specs
from inbox_tui.core.store import Store
from inbox_tui.core.team import presence_connected, set_shifts
from inbox_tui.settings import AssignmentSettings

_customers = count(1)


async def teammate(
    store: Store,
    handle: str,
    *,
    online: bool = True,
    capacity: int = 5,
    timezone: str = "UTC",
    shifts: tuple[str, ...] = (),
    name: str | None = None,
) -> AgentRef:
    agent, _token = await add_agent(store, handle, name or handle.capitalize(), capacity=capacity, timezone=timezone)
    if shifts:
        await set_shifts(store, handle, parse_shift_specs(shifts))
    if online:
        await presence_connected(store, agent.id, "test-node")
    return agent


async def escalated_ticket(
    store: Store, settings: AssignmentSettings | None = None, **escalate: object
) -> EscalationResult:
    """A bot escalation (or a takeover, given source/actor_id) of a fresh conversation."""
    started = await conversations.start_conversation(
        store, channel="web", customer_id=f"customer-{next(_customers)}", name="Customer"
    )
    options = {"source": "escalation", "reason": "asked for a human", **escalate}
    return await escalation.escalate(
        store,
        started.conversation.id,
        settings=EscalationSettings(assignment=settings or AssignmentSettings()),
        **options,
    )  # type: ignore[arg-type]


async def assignee_of(store: Store, ticket_id: int) -> int | None:
    async with store.read() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket.assignee_id


async def timeline_texts(store: Store, ticket_id: int, *codes: str) -> list[str]:
    async with store.read() as session:
        query = select(TimelineEvent.text).where(TimelineEvent.ticket_id == ticket_id)
        if codes:
            query = query.where(TimelineEvent.code.in_(codes))
        return list(await session.scalars(query.order_by(TimelineEvent.id)))


async def open_load(store: Store) -> dict[int, int]:
    async with store.read() as session:
        rows = await session.execute(
            select(Ticket.assignee_id, func.count())
            .where(Ticket.status != TicketStatus.CLOSED, Ticket.assignee_id.is_not(None))
            .group_by(Ticket.assignee_id)
        )
        return dict(rows.all())
