"""Allow AI replies with a customer question nobody answered: the bot answers it."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from inbox_tui.client.customer import CustomerClient
from inbox_tui.core.agents import add_agent
from inbox_tui.core.claiming import claim_ticket
from inbox_tui.core.hand_back import unanswered_message
from inbox_tui.core.models import Ticket, ticket_is_open
from inbox_tui.core.tickets import allow_ai_replies, send_agent_reply
from tests.channel.conftest import StartChannel
from tests.conftest import both_backends


async def open_ticket(store, timeout: float = 10.0) -> int:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while True:
            async with store.read() as session:
                found = await session.scalar(select(Ticket.id).where(ticket_is_open()))
            if found is not None:
                return int(found)
            await asyncio.sleep(0.05)


@both_backends
async def test_a_question_left_unanswered_is_answered_by_the_bot_after_the_hand_back(
    start_channel: StartChannel,
) -> None:
    channel = await start_channel(bot={"reply_lease_seconds": 0.6})
    store = channel.store
    ana, _ = await add_agent(store, "ana", "Ana Silva")
    async with CustomerClient(channel.url, customer={"id": "q1", "name": "Quinn", "locale": "en"}) as customer:
        await customer.send("I want to talk to a human, please")
        ticket_id = await open_ticket(store)
        assert (await claim_ticket(store, ticket_id, ana.id)).won
        await send_agent_reply(store, ticket_id, ana.id, "Hi Quinn, Ana here.")
        async with store.read() as session:
            assert await unanswered_message(session, ticket_id) is None  # answered by Ana
        await customer.send("Thanks! And what are your opening hours?")
        async with asyncio.timeout(10):
            while True:
                async with store.read() as session:
                    open_question = await unanswered_message(session, ticket_id)
                if open_question is not None:
                    break
                await asyncio.sleep(0.05)
        assert open_question.text == "Thanks! And what are your opening hours?"
        await allow_ai_replies(store, ticket_id, ana.id)
        answer = await customer.wait_for(
            lambda f: (
                f.get("type") == "message" and f.get("author") == "bot" and "Monday to Friday" in f.get("text", "")
            ),
            timeout=15,
        )
        assert answer["text"]


@both_backends
async def test_no_bot_answer_is_owed_when_a_teammate_answered_last(start_channel: StartChannel) -> None:
    from inbox_tui.core import owed_replies

    channel = await start_channel()
    store = channel.store
    ana, _ = await add_agent(store, "ana", "Ana Silva")
    async with CustomerClient(channel.url, customer={"id": "q2", "name": "Rae", "locale": "en"}) as customer:
        await customer.send("I want to talk to a human, please")
        ticket_id = await open_ticket(store)
        await claim_ticket(store, ticket_id, ana.id)
        await send_agent_reply(store, ticket_id, ana.id, "All sorted, Rae.")
        await allow_ai_replies(store, ticket_id, ana.id)
        assert await owed_replies.pending(store) == []
