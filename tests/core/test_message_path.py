"""The per-message flows under concurrency: on SQLite, writes that queue up together share
one commit, yet each succeeds or fails on its own."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from inbox_tui.core import conversations, escalation
from inbox_tui.core.models import Event, Message, TicketSource
from inbox_tui.core.store import NotFound, Store, StoreError
from tests.conftest import both_backends
from tests.core.helpers import add_teammate, new_conversation


@both_backends
async def test_concurrent_messages_each_stand_or_fail_alone(store: Store) -> None:
    started = [await new_conversation(store, f"cust-{n}") for n in range(6)]
    ids = [s.conversation.id for s in started]
    ana = await add_teammate(store, "ana")
    await escalation.escalate(store, ids[5], source=TicketSource.TAKEOVER, actor_id=ana.id)

    results = await asyncio.gather(
        *(
            conversations.record_customer_message(store, cid, f"hello {n}", client_id=f"c-{n}")
            for n, cid in enumerate(ids[:4])
        ),
        conversations.record_customer_message(store, 987_654, "nobody home", client_id="lost"),
        conversations.record_customer_message(store, ids[0], "hello 0", client_id="c-0"),  # a resend
        conversations.record_bot_reply(store, ids[1], "Bot here."),
        conversations.record_bot_reply(store, ids[5], "Too late: a teammate has it."),
        conversations.record_customer_message(store, ids[2], "   ", client_id="blank"),
        return_exceptions=True,
    )

    stored, unknown, resend, bot, paused, blank = (
        results[:4],
        results[4],
        results[5],
        results[6],
        results[7],
        results[8],
    )
    assert not any(isinstance(r, BaseException) for r in [*stored, resend])
    assert all(r.created for r in stored[1:])
    # The first send and its resend: stored once, whichever of the two got there first.
    assert resend.message.id == stored[0].message.id and [stored[0].created, resend.created].count(True) == 1
    assert isinstance(unknown, NotFound)
    assert isinstance(blank, StoreError)
    assert bot is not None and not isinstance(bot, BaseException) and bot.author == "bot"
    assert paused is None  # no bot message after the pause, grouped or not

    async with store.read() as session:
        messages = list(await session.scalars(select(Message).where(Message.client_id.is_not(None))))
        message_events = list(await session.scalars(select(Event).where(Event.kind == "message")))
    assert sorted(m.client_id for m in messages) == ["c-0", "c-1", "c-2", "c-3"]
    logged = {e.payload["message_id"] for e in message_events}
    assert {r.message.id for r in stored} | {bot.id} <= logged
    if store.is_sqlite:
        # One writer queue: event ids follow the order the writes were asked in.
        ordered = [
            e.payload["message_id"]
            for e in sorted(message_events, key=lambda e: e.id)
            if e.payload["message_id"] in {r.message.id for r in stored}
        ]
        assert ordered == sorted(ordered)


@both_backends
async def test_concurrent_messages_and_replies_all_land_in_order(store: Store) -> None:
    started = [await new_conversation(store, f"cust-{n}") for n in range(5)]
    ids = [s.conversation.id for s in started]
    customer = await asyncio.gather(
        *(
            conversations.record_customer_message(store, cid, f"question {n}", client_id=f"q-{n}")
            for n, cid in enumerate(ids)
        )
    )
    replies = await asyncio.gather(
        *(conversations.record_bot_reply(store, cid, f"answer {n}") for n, cid in enumerate(ids))
    )
    assert all(r.created for r in customer) and all(r is not None for r in replies)
    row_of = {}
    for n, cid in enumerate(ids):
        async with store.read() as session:
            thread = await conversations.transcript(session, cid)
            row = row_of[cid] = await conversations.get_conversation(session, cid)
        assert [(m.author, m.text) for m in thread] == [("customer", f"question {n}"), ("bot", f"answer {n}")]
        assert row.message_count == 2 and row.preview == f"answer {n}"
    async with store.read() as session:
        # The live list's read for a burst: the same rows in one query, unknown ids left out.
        together = await conversations.get_conversations(session, [*ids, ids[0], 999_999])
    assert sorted(together, key=lambda row: row.id) == [row_of[cid] for cid in sorted(ids)]
    async with store.read() as session:
        logged = [
            e.payload["message_id"]
            for e in await session.scalars(select(Event).where(Event.kind == "message").order_by(Event.id))
        ]
    made = [r.message.id for r in customer] + [r.id for r in replies]
    assert sorted(logged) == sorted(made)  # each message announced exactly once
    if store.is_sqlite:
        assert logged == made  # one writer queue: the log keeps the order the writes were asked in


async def test_a_cancelled_caller_does_not_stall_the_writes_behind_it(store: Store) -> None:
    started = await new_conversation(store)
    cid = started.conversation.id
    first = asyncio.create_task(conversations.record_customer_message(store, cid, "one", client_id="a"))
    second = asyncio.create_task(conversations.record_customer_message(store, cid, "two", client_id="b"))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert (await second).created
    third = await conversations.record_customer_message(store, cid, "three", client_id="c")
    assert third.created
