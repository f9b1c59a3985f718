"""The inbox's flows as the screen runs them: one core flow each, answered with a
``FlowDone`` that says what to tell the teammate and what to refresh.

No widgets here: the screen runs these through ``InboxScreen.run_flow``, which reports a
refusal (``StoreError``) or a database error, and applies the ``FlowDone``.
"""

from __future__ import annotations

import uuid

from textual.notifications import SeverityLevel

from inbox_tui.core import read_state
from inbox_tui.core import team as core_team
from inbox_tui.core.claiming import claim_ticket
from inbox_tui.core.escalation import escalate
from inbox_tui.core.models import TicketSource
from inbox_tui.core.records import AgentRef, EscalationResult
from inbox_tui.core.tickets import add_note, allow_ai_replies, mark_mentions_seen, reassign, send_agent_reply
from inbox_tui.core.views import View
from inbox_tui.runtime import Runtime
from inbox_tui.tui.messages import FlowDone
from inbox_tui.tui.safe_text import literal
from inbox_tui.tui.targets import DetailTarget, TicketTarget
from inbox_tui.tui.widgets.composer import NOTE


async def take_over(runtime: Runtime, me: AgentRef, conversation_id: int) -> tuple[EscalationResult, FlowDone]:
    result = await escalate(
        runtime.store, conversation_id, source=TicketSource.TAKEOVER, actor_id=me.id, settings=runtime.escalation
    )
    if result.created:
        toast = f"Ticket #{result.ticket_id} is on you. AI replies paused for this conversation."
        severity: SeverityLevel = "information"
    else:  # lost the race: say who has it, and show it
        toast = literal(result.holder_text, single_line=True) + " Showing it."
        severity = "warning"
    mine = result.assignee is not None and result.assignee.id == me.id
    return result, FlowDone(
        toast, severity, result.ticket_id, open_ticket=result.ticket_id, open_in=View.ON_YOU if mine else View.ALL_OPEN
    )


async def send(runtime: Runtime, me: AgentRef, ticket_id: int, mode: str, text: str) -> FlowDone:
    if mode == NOTE:
        result = await add_note(runtime.store, ticket_id, me.id, text)
        mentioned = ", ".join(f"@{literal(a.handle, single_line=True)}" for a in result.mentioned)
        toast = "Internal note added" + (f"; notified {mentioned}." if mentioned else ".")
    else:
        await send_agent_reply(runtime.store, ticket_id, me.id, text, client_id=f"tui-{uuid.uuid4()}")
        toast = "Reply sent to the customer."
    return FlowDone(toast, ticket_id=ticket_id, clear_draft=ticket_id)


async def allow_ai(runtime: Runtime, me: AgentRef, ticket_id: int) -> FlowDone:
    await allow_ai_replies(runtime.store, ticket_id, me.id, assignment=runtime.settings.assignment)
    return FlowDone(f"AI replies allowed again; ticket #{ticket_id} closed.", ticket_id=ticket_id)


async def reassign_ticket(runtime: Runtime, me: AgentRef | None, ticket_id: int, to_agent_id: int | None) -> FlowDone:
    target = await reassign(
        runtime.store, ticket_id, to_agent_id, me.id if me else None, assignment=runtime.settings.assignment
    )
    who = literal(target.label, single_line=True) if target else "Unassigned"
    return FlowDone(f"Ticket #{ticket_id} → {who}", ticket_id=ticket_id)


async def set_availability(runtime: Runtime, me: AgentRef, availability: str) -> FlowDone:
    await core_team.set_availability(runtime.store, me.id, availability, assignment=runtime.settings.assignment)
    return FlowDone(f"You are {availability} now.", tickets_changed=False, availability=availability)


async def claim(runtime: Runtime, me: AgentRef, ticket_id: int) -> FlowDone:
    """Claim an unassigned ticket; if someone was faster, say who has it."""
    result = await claim_ticket(runtime.store, ticket_id, me.id, assignment=runtime.settings.assignment)
    toast = literal(result.text, single_line=True)
    return FlowDone(toast, "information" if result.won else "warning", ticket_id=ticket_id)


async def take_from(runtime: Runtime, me: AgentRef, ticket_id: int) -> FlowDone:
    """Take a ticket another teammate holds (asked first, by the screen)."""
    await reassign(runtime.store, ticket_id, me.id, me.id, assignment=runtime.settings.assignment)
    return FlowDone(f"Ticket #{ticket_id} is on you now.", ticket_id=ticket_id)


async def mark_seen(runtime: Runtime, me: AgentRef, ticket_id: int) -> FlowDone:
    await mark_mentions_seen(runtime.store, me.id, ticket_id)
    return FlowDone(tickets_changed=False)


async def mark_read(runtime: Runtime, me: AgentRef, target: DetailTarget, up_to_message_id: int | None) -> FlowDone:
    """What the detail pane shows is read by me (and my mentions on a ticket are seen)."""
    if isinstance(target, TicketTarget):
        await read_state.mark_ticket_read(runtime.store, me.id, target.ticket_id, up_to_message_id)
    else:
        await read_state.mark_read(runtime.store, me.id, target.conversation_id, up_to_message_id)
    return FlowDone(tickets_changed=False, counts_changed=True)
