"""The malformed-input corpus against a real server: every input gets its error frame
or a clean close with a stable code, nothing changes in the store, and the server keeps
serving."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from inbox_tui.client.customer import CustomerClient
from inbox_tui.core.agents import add_agent
from inbox_tui.core.models import Contact, Conversation, Message, Ticket
from tests.channel.bridge_client import BridgeClient
from tests.channel.malformed_corpus import CORPUS, FRAME_LIMIT, MESSAGE_LIMIT, Fixture, play
from tests.conftest import both_backends


async def _rows(store) -> dict[str, int]:  # type: ignore[no-untyped-def]
    async with store.read() as session:
        return {
            model.__name__: int(await session.scalar(select(func.count()).select_from(model)))
            for model in (Contact, Conversation, Message, Ticket)
        }


def test_the_corpus_is_large_and_covers_both_endpoints() -> None:
    assert len(CORPUS) >= 200
    assert {(c.endpoint, c.phase) for c in CORPUS} == {
        ("/chat", "first"),
        ("/chat", "session"),
        ("/bridge", "first"),
        ("/bridge", "session"),
    }
    assert len({c.name for c in CORPUS}) == len(CORPUS)


@both_backends
async def test_every_malformed_input_is_answered_and_changes_nothing(start_channel, caplog) -> None:
    caplog.set_level(logging.INFO)
    channel = await start_channel(
        max_frame_bytes=FRAME_LIMIT,
        max_message_chars=MESSAGE_LIMIT,
        rate_limit_per_second=10_000.0,
        rate_limit_burst=10_000,
        new_conversations_per_minute=0.0,
    )
    _agent, token = await add_agent(channel.store, "ana", "Ana")
    async with CustomerClient(channel.url, customer={"id": "owner", "locale": "en"}) as owner:
        await owner.send("opening hours?")
        await owner.wait_for(lambda f: f.get("author") == "bot")
        assert owner.conversation_id and owner.token
        fixture = Fixture(token=token, conversation=owner.conversation_id, conversation_token=owner.token)
    await channel.server.wait_idle()
    before = await _rows(channel.store)

    failures = []
    for case in CORPUS:
        outcome = await play(channel.url, case, fixture)
        failures += [f"{case.name}: {problem}" for problem in outcome.problems(case)]
    assert not failures, "\n".join(failures[:40])

    await channel.server.wait_idle()
    assert await _rows(channel.store) == before
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    # Still serving: a customer chats with the bot, a teammate's bridge connects.
    async with CustomerClient(channel.url, customer={"id": "after", "locale": "en"}) as chat:
        await chat.send("and delivery times?")
        await chat.wait_for(lambda f: f.get("author") == "bot")
    bridge = await BridgeClient.open(channel.url, token)
    await bridge.close()
