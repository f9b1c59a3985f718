"""A write group of customer messages and bot answers on PostgreSQL sends each kind's
statements at once (``core/pipelined.py``): each conversation keeps its order, the
results are those of one write at a time, a failing write fails only itself, and
racing groups keep the store's lock order (no deadlock)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import Any

import pytest

from inbox_tui.core import conversations, events
from inbox_tui.core.conversations import OwedWork
from inbox_tui.core.models import Conversation, ConversationStatus
from inbox_tui.core.prepared import Prepared
from inbox_tui.core.store import Store, StoreError
from tests.conftest import both_backends, postgres_only
from tests.core.helpers import new_conversation

CONVERSATIONS = 4


@pytest.fixture
def pipelines(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The number of value sets of each pipelined send, in order."""
    sizes: list[int] = []
    original = Prepared.first_each

    def counted(self: Prepared, connection: Any, value_sets: Any) -> list[Any]:
        sizes.append(len(value_sets))
        return original(self, connection, value_sets)

    monkeypatch.setattr(Prepared, "first_each", counted)
    yield sizes


async def _texts_and_authors(store: Store, conversation_id: int) -> list[tuple[str, str]]:
    async with store.read() as session:
        return [(m.author, m.text) for m in await conversations.transcript(session, conversation_id)]


@both_backends
async def test_messages_and_answers_in_one_group_keep_each_conversations_order(
    store: Store, database_url: str, pipelines: list[int]
) -> None:
    cids = [(await new_conversation(store, f"c-{n}")).conversation.id for n in range(CONVERSATIONS)]
    firsts = [
        await conversations.record_customer_message(store, cid, f"first {cid}", client_id=f"{cid}-1") for cid in cids
    ]
    calls: list[Any] = []
    for cid, first in zip(cids, firsts, strict=True):
        calls.append(
            conversations.record_bot_reply(store, cid, f"answer {cid}", answering=OwedWork(cid, first.message.id))
        )
        calls.append(conversations.record_customer_message(store, cid, f"second {cid}", client_id=f"{cid}-2"))
    # A resend of a message already stored, in the same group: the stored one comes back.
    calls.append(conversations.record_customer_message(store, cids[0], f"first {cids[0]}", client_id=f"{cids[0]}-1"))
    results = await asyncio.gather(*calls)

    resent = results[-1]
    assert not resent.created and resent.message.id == firsts[0].message.id
    for n, cid in enumerate(cids):
        answer, second = results[2 * n], results[2 * n + 1]
        assert answer is not None and second.created
        assert firsts[n].message.id < answer.id < second.message.id
        assert await _texts_and_authors(store, cid) == [
            ("customer", f"first {cid}"),
            ("bot", f"answer {cid}"),
            ("customer", f"second {cid}"),
        ]
    if database_url.startswith("postgresql"):
        # The answers went at once, then the second messages, then the resend.
        assert pipelines == [CONVERSATIONS, CONVERSATIONS, 1]
    else:
        assert pipelines == []


@both_backends
async def test_a_message_to_an_ended_conversation_fails_alone_in_its_group(store: Store, pipelines: list[int]) -> None:
    cids = [(await new_conversation(store, f"c-{n}")).conversation.id for n in range(CONVERSATIONS)]
    async with store.write() as session:
        ended = await session.get(Conversation, cids[1])
        assert ended is not None
        ended.status = ConversationStatus.ENDED
    results = await asyncio.gather(
        *(conversations.record_customer_message(store, cid, f"hello {cid}", client_id=f"{cid}-1") for cid in cids),
        return_exceptions=True,
    )
    assert isinstance(results[1], StoreError)
    for n, cid in enumerate(cids):
        expected = [] if n == 1 else [("customer", f"hello {cid}")]
        assert await _texts_and_authors(store, cid) == expected


@pytest.fixture
def group_failures(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[BaseException]]:
    """What made a pipelined group fail (its writes then ran one by one)."""
    failures: list[BaseException] = []
    original = events.run_pipelined

    def watched(connection: Any, works: Any) -> Any:
        try:
            return original(connection, works)
        except BaseException as error:
            failures.append(error)
            raise

    monkeypatch.setattr(events, "run_pipelined", watched)
    yield failures


@postgres_only
async def test_racing_groups_on_shared_conversations_never_deadlock(
    database_url: str, group_failures: list[BaseException]
) -> None:
    """Four stores write messages and answers to the same conversations at once, each
    group a shuffled mix of both kinds (so a kind sent first would lock out of order):
    every write lands, and no group failed (a deadlock would fail one)."""
    stores = [Store(database_url) for _ in range(4)]
    rounds = 60
    try:
        cids = [(await new_conversation(stores[0], f"c-{n}")).conversation.id for n in range(12)]
        owed = {
            cid: (await conversations.record_customer_message(stores[0], cid, "hi", client_id=f"{cid}-0")).message.id
            for cid in cids
        }
        rng = random.Random(7)
        sent: dict[int, int] = dict.fromkeys(cids, 1)

        async def one_group(store: Store, round_: int) -> None:
            # A few conversations in a shuffled mix of kinds: groups on different
            # subsets, so no one conversation is every group's first lock.
            writes: list[Any] = []
            for cid in rng.sample(cids, 4):
                if rng.random() < 0.5:
                    sent[cid] += 1
                    client_id = f"{id(store)}-{round_}-{cid}"
                    writes.append(conversations.record_customer_message(store, cid, f"r{round_}", client_id=client_id))
                else:  # long answered: stale, but it takes the conversation's lock all the same
                    writes.append(conversations.record_bot_reply(store, cid, "ok", answering=OwedWork(cid, owed[cid])))
            await asyncio.gather(*writes)

        async def rounds_on(store: Store) -> None:
            for round_ in range(rounds):
                await one_group(store, round_)

        async with asyncio.timeout(120):
            await asyncio.gather(*(rounds_on(store) for store in stores))
        for cid in cids:
            customer = [text for author, text in await _texts_and_authors(stores[0], cid) if author == "customer"]
            assert len(customer) == sent[cid]
        assert group_failures == []
    finally:
        for store in stores:
            await store.close()
