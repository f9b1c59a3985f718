"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from inbox_tui.core import attention
from inbox_tui.core.conversations import record_customer_message
from inbox_tui.core.migrate import (
    HEAD,
    SchemaMismatch,
    check_schema,
    current_revision,
    ensure_schema,
    head_revision,
    stored_revision,
    upgrade,
)
from inbox_tui.core.models import Base, Conversation
from inbox_tui.core.search_schema import include_name
from inbox_tui.core.store import Store
from inbox_tui.core.tickets import send_agent_reply
from inbox_tui.core.views import View
from tests.conftest import (
    PG_SKIP_REASON,
    FixedClock,
    both_backends,
    create_pg_database,
    drop_pg_database,
    postgres_reachable,
    sqlite_url,
)
from tests.core.helpers import add_teammate, downgrade_to
from tests.core.legacy_rows import insert_contact, insert_conversation, insert_message, insert_ticket


@both_backends
async def test_migrated_schema_matches_the_models(store: Store) -> None:
    assert await current_revision(store) == head_revision()

    def differences(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": False, "include_name": include_name})
        return compare_metadata(context, Base.metadata)

    def partial_indexes(connection):  # type: ignore[no-untyped-def]
        return {ix["name"] for ix in inspect(connection).get_indexes("tickets")}

    async with store.read_engine.connect() as conn:
        assert await conn.run_sync(differences) == []
        indexes = await conn.run_sync(partial_indexes)
    assert {
        "uq_tickets_open_conversation",
        "ix_tickets_open_updated",
        "ix_tickets_open_assignee",
        "ix_tickets_conversation",
    } <= indexes


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
async def test_the_attention_columns_are_filled_for_an_existing_database(backend: str, tmp_path: Path) -> None:
    """0006 adds the latest message's author and name and the customer's wait to every
    conversation, from the messages already there; later messages keep them."""
    if backend == "sqlite":
        url, name = sqlite_url(tmp_path), None
    elif not postgres_reachable():
        pytest.skip(PG_SKIP_REASON)
    else:
        name, url = await create_pg_database()
    clock = FixedClock()
    store = Store(url, clock=clock)
    t0 = clock.now

    def at(minutes: int) -> datetime:
        return t0 + timedelta(minutes=minutes)

    try:
        await upgrade(store, "0005_search_lifecycle")
        async with store.write() as session:

            async def conversation(customer: str, *messages: tuple[int, str, str], status: str = "live") -> int:
                contact = await insert_contact(session, customer, customer.title(), t0)
                conversation_id = await insert_conversation(session, contact, t0, status=status)
                for minute, author, name in messages:
                    await insert_message(session, conversation_id, author, name, f"{author} at {minute}", at(minute))
                return conversation_id

            async def ticket(conversation_id: int, minute: int, status: str = "on_you") -> int:
                contact = await session.scalar(
                    select(Conversation.contact_id).where(Conversation.id == conversation_id)
                )
                assert contact is not None
                return await insert_ticket(session, conversation_id, contact, at(minute), status=status)

            live = await conversation("wes", (0, "customer", "Wes"), (1, "bot", "Assistant"), (2, "customer", "Wes"))
            empty = await conversation("eve")
            answered = await conversation("ada", (0, "customer", "Ada"), (2, "agent", "Ana"), status="escalated")
            answered_ticket = await ticket(answered, 1)
            asked_again = await conversation(
                "bob",
                (0, "customer", "Bob"),
                (2, "agent", "Ana"),
                (3, "customer", "Bob"),
                (5, "customer", "Bob"),
                status="escalated",
            )
            asked_again_ticket = await ticket(asked_again, 1)
            before_ticket = await conversation("cy", (0, "customer", "Cy"), status="escalated")
            before_ticket_ticket = await ticket(before_ticket, 2)
            system_last = await conversation(
                "di", (0, "customer", "Di"), (1, "agent", "Ana"), (2, "system", ""), status="escalated"
            )
            system_last_ticket = await ticket(system_last, 1)
            closed = await conversation("flo", (0, "customer", "Flo"), (1, "bot", "Assistant"))
            closed_ticket = await ticket(closed, 0, status="closed")

        async def columns() -> dict[int, tuple[str, str, datetime | None]]:
            async with store.read() as session:
                rows = await session.execute(
                    select(
                        Conversation.id,
                        Conversation.last_message_author,
                        Conversation.last_message_name,
                        Conversation.waiting_since,
                    )
                )
                return {row[0]: tuple(row[1:]) for row in rows}  # type: ignore[misc]

        expected = {
            live: ("customer", "Wes", at(0)),
            empty: ("", "", None),
            answered: ("agent", "Ana", None),
            asked_again: ("customer", "Bob", at(3)),
            before_ticket: ("customer", "Cy", at(0)),
            system_last: ("system", "", None),
            closed: ("bot", "Assistant", at(0)),
        }
        await upgrade(store)
        assert await columns() == expected

        async def tickets(view: View) -> dict[int, tuple[datetime | None, str, str, str]]:
            async with store.read() as session:
                rows = await attention.page(session, view)
            return {r.id: (r.waiting_since, r.last_author, r.last_name, r.last_preview) for r in rows}  # type: ignore[union-attr]

        assert await tickets(View.ALL_OPEN) == {
            answered_ticket: (None, "agent", "Ana", "agent at 2"),
            asked_again_ticket: (at(3), "customer", "Bob", "customer at 5"),
            before_ticket_ticket: (at(2), "customer", "Cy", "customer at 0"),  # not before the ticket
            system_last_ticket: (None, "system", "", "system at 2"),
        }
        assert await tickets(View.CLOSED) == {closed_ticket: (None, "bot", "Assistant", "bot at 1")}

        # The messages written after the upgrade keep the columns.
        ana = await add_teammate(store, "ana")
        clock.now = at(10)
        await send_agent_reply(store, asked_again_ticket, ana.id, "On it")
        clock.now = at(11)
        await record_customer_message(store, answered, "and now?")
        after = await columns()
        assert after[asked_again] == ("agent", "Ana", None)
        assert after[answered] == ("customer", "Ada", at(11))

        # Down and up again: filled again from the messages.
        await downgrade_to(store, "0005_search_lifecycle")
        await upgrade(store)
        assert await columns() == after
    finally:
        await store.close()
        if name is not None:
            await drop_pg_database(name)


def test_the_known_head_is_alembics_head() -> None:
    """The quick schema check at start compares with ``HEAD``: it must name the newest
    migration (add a migration, move ``HEAD`` with it)."""
    assert head_revision() == HEAD


@both_backends
async def test_a_current_database_is_known_without_alembic_and_an_old_one_is_not(store: Store) -> None:
    assert await stored_revision(store) == HEAD
    await check_schema(store)  # at HEAD: no error
    await downgrade_to(store, "0005_search_lifecycle")
    assert await stored_revision(store) == "0005_search_lifecycle"
    with pytest.raises(SchemaMismatch, match="behind"):
        await check_schema(store)
    await ensure_schema(store)
    assert await stored_revision(store) == HEAD
