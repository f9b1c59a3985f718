"""One lock order, across OS processes on PostgreSQL: six worker processes (each its own
store and connections, as separate server nodes and inboxes are) race teammates'
replies, notes, Allow AI replies and customers' messages on the same conversations,
released together by a barrier, round after round (a takeover opens each round's
ticket). Not one flow fails with a database error: no deadlock, no serialization
failure escapes the store. The figures are printed (``-s``);
``INBOX_FAULT_RACE_ROUNDS`` runs more rounds by hand."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import select

from inbox_tui.core.escalation import escalate
from inbox_tui.core.models import TicketSource, TimelineEvent
from inbox_tui.core.store import Store
from tests.channel.fault_support import loop_size
from tests.conftest import BACKENDS
from tests.core.helpers import add_teammate, new_conversation
from tests.core.racing_flows import ROLES, race_in_process
from tests.support.process_race import SPAWN, racing_processes

WORKERS = len(ROLES)
CONVERSATIONS = 4
ROUNDS = loop_size("RACE_ROUNDS", 8)


async def _timeline(store: Store, ticket_id: int) -> list[tuple[str, str]]:
    async with store.read() as session:
        rows = await session.execute(
            select(TimelineEvent.code, TimelineEvent.text)
            .where(TimelineEvent.ticket_id == ticket_id)
            .order_by(TimelineEvent.id)
        )
        return [tuple(row) for row in rows]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", [p for p in BACKENDS if p.id == "postgresql"], indirect=True)
async def test_processes_racing_replies_allow_ai_and_customer_messages_never_fail(database_url: str) -> None:
    store = Store(database_url)
    inboxes = [SPAWN.Queue() for _ in range(WORKERS)]
    outcomes: Counter[str] = Counter()
    try:
        agent = await add_teammate(store, "ana", capacity=1000)
        ids = [
            (await new_conversation(store, f"cust-{n}", first_message="hello")).conversation.id
            for n in range(CONVERSATIONS)
        ]
        arguments = [(database_url, w, agent.id, inboxes[w]) for w in range(WORKERS)]
        async with racing_processes(race_in_process, arguments) as race:
            try:
                for _round in range(ROUNDS):
                    pairs = []
                    for conversation_id in ids:
                        taken = await escalate(store, conversation_id, source=TicketSource.TAKEOVER, actor_id=agent.id)
                        # The last round's Allow AI replies closed the one before.
                        assert taken.created, (taken, dict(outcomes), await _timeline(store, taken.ticket_id))
                        pairs.append((conversation_id, taken.ticket_id))
                    for inbox in inboxes:
                        inbox.put(pairs)
                    for _ in range(WORKERS):
                        outcomes += await race.next_result()
            finally:
                for inbox in inboxes:
                    inbox.put(None)  # the workers' signal to stop
    finally:
        await store.close()
    print(
        f"\nlock-order race across {WORKERS} processes, {ROUNDS} rounds x {CONVERSATIONS} conversations: "
        f"{dict(outcomes)}"
    )
    assert {k: v for k, v in outcomes.items() if "FAILED" in k} == {}
    assert outcomes["customer ok"] == 2 * ROUNDS * CONVERSATIONS
    assert outcomes["allow_ai ok"] == ROUNDS * CONVERSATIONS
    assert sum(outcomes.values()) == WORKERS * ROUNDS * CONVERSATIONS
