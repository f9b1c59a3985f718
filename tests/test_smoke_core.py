from tests.conftest import both_backends

from inbox_tui.core import conversations, escalation


@both_backends
async def test_escalate_once(store):
    started = await conversations.start_conversation(store, channel="web", customer_id="c1", name="Bob")
    first = await escalation.escalate(store, started.conversation.id, source="escalation", reason="asked")
    second = await escalation.escalate(store, started.conversation.id, source="escalation", reason="asked")
    assert first.created and not second.created and first.ticket_id == second.ticket_id
