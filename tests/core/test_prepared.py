"""Statements run straight on the driver (``core.prepared``) behave as SQLAlchemy's own
execution would: typed values both ways, the driver's errors as SQLAlchemy's, and
SQLAlchemy's path where a statement needs it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from inbox_tui.core import conversations
from inbox_tui.core.models import Author, Conversation, Message, table_of
from inbox_tui.core.prepared import NotOneRowEach, Prepared
from inbox_tui.core.store import Store
from tests.conftest import both_backends
from tests.core.helpers import new_conversation

_MESSAGES = table_of(Message)
_CONVERSATIONS = table_of(Conversation)
_INSERT = Prepared(insert(_MESSAGES).returning(_MESSAGES.c.id, _MESSAGES.c.created_at))
_READ = Prepared(
    select(_MESSAGES.c.id, _MESSAGES.c.created_at, _CONVERSATIONS.c.ai_enabled)
    .join(_CONVERSATIONS, _CONVERSATIONS.c.id == _MESSAGES.c.conversation_id)
    .where(_MESSAGES.c.id == bindparam("message_id"))
)
_MARK_SOME = Prepared(
    update(_MESSAGES)
    .where(_MESSAGES.c.id.in_(bindparam("ids", expanding=True)))
    .values(delivered_at=bindparam("b_now", type_=_MESSAGES.c.delivered_at.type))
)
WHEN = datetime(2026, 12, 2, 10, 0, 0, 123456, tzinfo=UTC)


def _message(conversation_id: int, client_id: str) -> dict[str, object]:
    return {
        "conversation_id": conversation_id,
        "author": Author.CUSTOMER,
        "agent_id": None,
        "name": "Carla",
        "text": "hello",
        "client_id": client_id,
        "created_at": WHEN,
        "delivered_at": None,
    }


def _insert_and_read(connection: Connection, conversation_id: int) -> tuple[object, object]:
    inserted = _INSERT.first(connection, _message(conversation_id, "c-1"))
    assert inserted is not None
    return inserted, _READ.first(connection, {"message_id": inserted.id})


@both_backends
async def test_values_come_back_typed_as_sqlalchemy_gives_them(store: Store) -> None:
    conversation_id = (await new_conversation(store)).conversation.id
    inserted, read = await store.run_write(_insert_and_read, conversation_id)
    assert read.id == inserted.id  # type: ignore[attr-defined]
    assert read.created_at == WHEN and read.created_at.tzinfo is not None  # type: ignore[attr-defined]
    assert read.ai_enabled is True  # type: ignore[attr-defined]  # SQLite stores 1


def _insert_twice(connection: Connection, conversation_id: int) -> None:
    _INSERT.run(connection, _message(conversation_id, "same"))
    _INSERT.run(connection, _message(conversation_id, "same"))


@both_backends
async def test_a_unique_violation_is_sqlalchemys_integrity_error(store: Store) -> None:
    conversation_id = (await new_conversation(store)).conversation.id
    with pytest.raises(IntegrityError):
        await store.run_write(_insert_twice, conversation_id)
    async with store.read() as session:  # rolled back as a whole
        assert await session.scalar(select(Message.id).where(Message.client_id == "same")) is None


def _mark(connection: Connection, ids: list[int]) -> None:
    _MARK_SOME.run(connection, {"ids": ids, "b_now": WHEN})


@both_backends
async def test_a_list_parameter_goes_through_sqlalchemy(store: Store) -> None:
    conversation_id = (await new_conversation(store)).conversation.id
    inserted, _ = await store.run_write(_insert_and_read, conversation_id)
    await store.run_write(_mark, [inserted.id, 987_654])  # type: ignore[attr-defined]
    async with store.read() as session:
        marked = await session.scalar(select(Message.delivered_at).where(Message.id == inserted.id))  # type: ignore[attr-defined]
    assert marked == WHEN


def _insert_each_then_fail(connection: Connection, conversation_id: int) -> None:
    rows = _INSERT.first_each(connection, [_message(conversation_id, f"each-{n}") for n in range(3)])
    assert [row.created_at for row in rows] == [WHEN] * 3  # typed, one row per set, in order
    assert [row.id for row in rows] == sorted(row.id for row in rows)
    read = _READ.first_each(connection, [{"message_id": row.id} for row in rows])
    assert [row.id for row in read] == [row.id for row in rows]
    # A set that gives no row: the runs are done, the caller's transaction must go.
    _READ.first_each(connection, [{"message_id": rows[0].id}, {"message_id": -1}])


@both_backends
async def test_first_each_gives_one_row_per_set_in_the_callers_transaction(store: Store) -> None:
    conversation_id = (await new_conversation(store)).conversation.id
    with pytest.raises(NotOneRowEach):
        await store.run_write(_insert_each_then_fail, conversation_id)
    async with store.read() as session:
        # Rolled back with the transaction: the pipelined inserts ran inside it.
        assert [m.client_id for m in await conversations.transcript(session, conversation_id)] == []


@both_backends
async def test_first_each_raises_the_drivers_error_as_sqlalchemys(store: Store) -> None:
    conversation_id = (await new_conversation(store)).conversation.id

    def twice(connection: Connection) -> None:
        _INSERT.first_each(connection, [_message(conversation_id, "same"), _message(conversation_id, "same")])

    with pytest.raises(IntegrityError):
        await store.run_write(twice)
