"""Beyond capacity, away or offline: asked first in the inbox, and written on the timeline."""

from __future__ import annotations

from inbox_tui.core.agents import AgentStatus
from inbox_tui.core.assignment_risks import RISK_CODE, assignment_risk
from inbox_tui.core.claiming import claim_ticket
from inbox_tui.core.escalation import escalate
from inbox_tui.core.models import TicketSource
from inbox_tui.core.records import AgentRef
from inbox_tui.core.store import Store
from inbox_tui.core.tickets import reassign
from tests.conftest import both_backends
from tests.core.helpers import add_teammate, new_conversation, timeline_codes

BEN = AgentRef(2, "ben", "Ben Okafor")


def status(**changes) -> AgentStatus:  # type: ignore[no-untyped-def]
    values = {"agent": BEN, "availability": "available", "online": True, "open_tickets": 1, "capacity": 2}
    values.update(changes)
    return AgentStatus(timezone="UTC", **values)  # type: ignore[arg-type]


def test_the_risks_of_one_more_ticket() -> None:
    assert assignment_risk(status()) is None
    assert assignment_risk(status(open_tickets=2)) == "Ben Okafor (@ben) is beyond capacity (3 open, capacity 2)"
    assert assignment_risk(status(open_tickets=2), holds_it=True) is None
    assert assignment_risk(status(availability="away")) == "Ben Okafor (@ben) is away"
    assert assignment_risk(status(online=False)) == "Ben Okafor (@ben) is offline"
    assert assignment_risk(status(online=False), present=True) is None  # the one claiming is here
    both = assignment_risk(status(online=False, availability="away"))
    assert both == "Ben Okafor (@ben) is away and offline"


@both_backends
async def test_a_claim_beyond_capacity_and_a_reassign_to_an_offline_teammate_are_on_the_timeline(
    store: Store,
) -> None:
    ana = await add_teammate(store, "ana", capacity=0)
    ben = await add_teammate(store, "ben", online=False)
    started = await new_conversation(store, first_message="hi")
    result = await escalate(store, started.conversation.id, source=TicketSource.ESCALATION, reason="asked")
    assert result.assignee is None  # Ana has no room, Ben is offline
    await claim_ticket(store, result.ticket_id, ana.id)
    assert (await timeline_codes(store, result.ticket_id)).count(RISK_CODE) == 1
    await reassign(store, result.ticket_id, ben.id, ana.id)
    assert (await timeline_codes(store, result.ticket_id)).count(RISK_CODE) == 2


@both_backends
async def test_an_ordinary_claim_writes_no_risk(store: Store) -> None:
    ana = await add_teammate(store, "ana", capacity=0)
    bea = await add_teammate(store, "bea", online=False, capacity=3)
    started = await new_conversation(store, first_message="hi")
    result = await escalate(store, started.conversation.id, source=TicketSource.ESCALATION, reason="asked")
    await claim_ticket(store, result.ticket_id, bea.id)  # at her keyboard, with room
    assert RISK_CODE not in await timeline_codes(store, result.ticket_id)
    assert ana
