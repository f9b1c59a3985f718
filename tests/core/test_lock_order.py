"""One lock order under real concurrency: teammates' replies, Allow AI replies, takeovers
and customers' messages race on the same conversations, each through its own store
(its own connections), and not one of them fails with a database error.

Before the order was one (a customer message locked the conversation, then the ticket;
a reply and Allow AI the ticket, then the conversation), PostgreSQL aborted one side of
such races as a deadlock. The figures are printed (``-s`` shows them).
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from inbox_tui.core import conversations, tickets
from inbox_tui.core.escalation import escalate
from inbox_tui.core.models import TicketSource
from inbox_tui.core.store import Store, StoreError, retry_conflicts, teammate_flow
from tests.conftest import both_backends, postgres_only, requires_postgres
from tests.core.helpers import add_teammate, new_conversation

CONVERSATIONS = 4
ROUNDS = 12
STORES = 3  # separate engines: separate connections, as separate processes would have


async def _race_round(
    stores: list[Store], conversation_id: int, agent_id: int, round_no: int, outcomes: Counter[str]
) -> None:
    """One round on one conversation: take over, then reply, hand back and write at once."""
    takeover = await escalate(stores[0], conversation_id, source=TicketSource.TAKEOVER, actor_id=agent_id)
    ticket_id = takeover.ticket_id

    async def run(name: str, flow) -> None:  # type: ignore[no-untyped-def]
        try:
            await flow
            outcomes[name + " ok"] += 1
        except StoreError as error:
            # A closed ticket refuses a late reply: the flow's own answer, not a failure.
            if "is closed" in str(error):
                outcomes[name + " refused (closed)"] += 1
            else:
                outcomes[name + " FAILED: " + str(error)] += 1
        except Exception as error:  # noqa: BLE001 - counted, the test asserts there are none
            outcomes[f"{name} FAILED: {type(error).__name__}: {error}"] += 1

    await asyncio.gather(
        run("reply", tickets.send_agent_reply(stores[1], ticket_id, agent_id, f"reply {round_no}")),
        run("note", tickets.add_note(stores[2], ticket_id, agent_id, f"note {round_no}")),
        run("customer", conversations.record_customer_message(stores[2], conversation_id, f"hi {round_no}")),
        run("allow_ai", tickets.allow_ai_replies(stores[0], ticket_id, agent_id)),
        run("customer", conversations.record_customer_message(stores[1], conversation_id, f"hey {round_no}")),
        run("reply", tickets.send_agent_reply(stores[0], ticket_id, agent_id, f"again {round_no}")),
    )


@both_backends
@pytest.mark.slow
async def test_replies_allow_ai_and_customer_messages_race_without_a_failure(database_url: str) -> None:
    stores = [Store(database_url) for _ in range(STORES)]
    try:
        agent = await add_teammate(stores[0], "ana", capacity=100)
        ids = [(await new_conversation(stores[0], f"cust-{n}")).conversation.id for n in range(CONVERSATIONS)]
        outcomes: Counter[str] = Counter()
        for round_no in range(ROUNDS):
            await asyncio.gather(*(_race_round(stores, cid, agent.id, round_no, outcomes) for cid in ids))
    finally:
        for store in stores:
            await store.close()
    print(f"\nlock-order race ({database_url.split(':')[0]}): {dict(sorted(outcomes.items()))}")
    failures = {k: v for k, v in outcomes.items() if "FAILED" in k}
    assert failures == {}
    assert outcomes["customer ok"] == 2 * CONVERSATIONS * ROUNDS
    assert outcomes["allow_ai ok"] == CONVERSATIONS * ROUNDS


@requires_postgres
async def test_a_deadlock_is_run_again_inside_the_store(database_url: str) -> None:
    """Two transactions take two row locks in opposite orders, at the same moment:
    PostgreSQL aborts one as a deadlock, and ``retry_conflicts`` runs it again."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a deadlock needs row locks PostgreSQL grants one by one")
    store = Store(database_url)
    both_hold_one = asyncio.Barrier(2)
    attempts: Counter[str] = Counter()
    try:
        first = (await new_conversation(store, "a")).conversation.id
        second = (await new_conversation(store, "b")).conversation.id

        @retry_conflicts
        async def lock_both(name: str, one: int, other: int) -> None:
            attempts[name] += 1
            async with store.write() as session:
                lock = text("SELECT id FROM conversations WHERE id = :id FOR NO KEY UPDATE")
                await session.execute(lock, {"id": one})
                if attempts[name] == 1:
                    await both_hold_one.wait()
                await session.execute(lock, {"id": other})

        await asyncio.gather(lock_both("ab", first, second), lock_both("ba", second, first))
    finally:
        await store.close()
    assert sorted(attempts.values()) == [1, 2]  # one ran again, and both finished


test_a_deadlock_is_run_again_inside_the_store = postgres_only(test_a_deadlock_is_run_again_inside_the_store)


async def test_a_database_error_in_a_teammate_flow_is_a_store_error() -> None:
    """Nothing listens on port 1: the flow's error says so, as a ``StoreError`` the inbox shows."""
    store = Store("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    try:
        with pytest.raises(StoreError, match="the database could not save this"):
            await tickets.send_agent_reply(store, 1, 1, "hello")
    finally:
        await store.close()


async def test_a_flow_error_that_is_not_the_database_is_left_as_it_is() -> None:
    @teammate_flow
    async def refuses() -> None:
        raise ValueError("not a database error")

    with pytest.raises(ValueError):
        await refuses()

    @retry_conflicts
    async def fails_once_for_good() -> None:
        raise DBAPIError("SELECT 1", {}, Exception("no sqlstate"))

    with pytest.raises(DBAPIError):
        await fails_once_for_good()
