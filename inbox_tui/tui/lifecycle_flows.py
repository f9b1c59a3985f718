"""The lifecycle flows as the inbox screen runs them (see ``core.lifecycle``): one core
flow each, answered with a ``FlowDone`` that says what happened."""

from __future__ import annotations

from datetime import datetime

from inbox_tui.core import lifecycle
from inbox_tui.core.records import AgentRef
from inbox_tui.runtime import Runtime
from inbox_tui.tui.messages import FlowDone


async def set_pending(runtime: Runtime, me: AgentRef, ticket_id: int) -> FlowDone:
    await lifecycle.set_pending(runtime.store, ticket_id, me.id)
    return FlowDone(f"Ticket #{ticket_id} is waiting on the customer.", ticket_id=ticket_id)


async def snooze(runtime: Runtime, me: AgentRef, ticket_id: int, until: datetime | None) -> FlowDone:
    await lifecycle.snooze(runtime.store, ticket_id, me.id, until)
    when = f"until {until:%Y-%m-%d %H:%M} UTC" if until else "until the customer writes"
    return FlowDone(f"Ticket #{ticket_id} snoozed {when}.", ticket_id=ticket_id)


async def close_keeping_ai_paused(runtime: Runtime, me: AgentRef, ticket_id: int) -> FlowDone:
    await lifecycle.close_keeping_ai_paused(runtime.store, ticket_id, me.id)
    return FlowDone(
        f"Ticket #{ticket_id} closed. The AI stays paused for this conversation; "
        "if the customer writes again, the ticket reopens on its holder.",
        ticket_id=ticket_id,
    )


async def reopen(runtime: Runtime, me: AgentRef, ticket_id: int, reason: str) -> FlowDone:
    await lifecycle.reopen(runtime.store, ticket_id, me.id, reason)
    return FlowDone(
        f"Ticket #{ticket_id} reopened on you. AI replies paused for this conversation.", ticket_id=ticket_id
    )
