"""What the timeline says when the assistant escalates: its reason once, one full stop."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from inbox_tui.core import escalation
from inbox_tui.core.models import TicketSource, TimelineEvent
from inbox_tui.core.store import Store
from tests.core.helpers import new_conversation


@pytest.mark.parametrize(
    ("reason", "said"),
    [
        ("The customer asked for a person.", "Escalated to a human by the assistant: The customer asked for a person."),
        ("refund dispute", "Escalated to a human by the assistant: refund dispute."),
        ("  ", "Escalated to a human by the assistant: no reason given."),
        (None, "Escalated to a human by the assistant: no reason given."),
    ],
)
async def test_the_escalation_line_ends_with_one_full_stop(store: Store, reason: str | None, said: str) -> None:
    chat = await new_conversation(store)
    result = await escalation.escalate(store, chat.conversation.id, source=TicketSource.ESCALATION, reason=reason)
    async with store.read() as session:
        text = await session.scalar(
            select(TimelineEvent.text).where(
                TimelineEvent.ticket_id == result.ticket_id, TimelineEvent.code == "escalated"
            )
        )
    assert text == said
