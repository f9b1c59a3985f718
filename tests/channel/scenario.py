"""The chat channel's whole story, shared by the one-node and the two-node tests:

a customer asks for a person → the model calls the tool → the handoff message reaches
the customer → a ticket with the conversation's channel → further customer messages
get no bot reply → an internal note (never sent) → an agent reply reaches the
customer → allow AI replies → the next customer message gets a bot reply again.

The teammate acts through the core against the same database, as the TUI does; their
bridge may be on another server node than the customer's socket.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from inbox_tui.client.customer import CustomerClient
from inbox_tui.core.agents import add_agent
from inbox_tui.core.customer_status import is_status_line
from inbox_tui.core.models import Conversation, Message, Ticket
from inbox_tui.core.store import Store
from inbox_tui.core.tickets import add_note, allow_ai_replies, send_agent_reply
from tests.channel.bridge_client import BridgeClient
from tests.support.fake_openai import Behaviour, FakeOpenAI

NOTE = "internal: refund policy says no @ana"


async def run_scenario(store: Store, fake: FakeOpenAI, customer_url: str, bridge_url: str) -> None:
    ana, token = await add_agent(store, "ana", "Ana")
    bridge = await BridgeClient.open(bridge_url, token)
    assert bridge.ready["agent"]["handle"] == "ana"

    fake.push(
        Behaviour(kind="tool_call", arguments={"reason": "the customer asked for a person"}),
        Behaviour(
            kind="json",
            data={"subject": "Wants a person", "summary": "The customer asked for a person.", "language": "en"},
        ),
    )
    chat = CustomerClient(
        customer_url, channel="whatsapp", customer={"id": "+34600111222", "name": "Lucía", "locale": "en"}
    )
    await chat.connect()
    try:
        await chat.send("Hi! Can I speak to a person, please?")
        assert (await chat.wait_for(lambda f: f["type"] == "mode"))["mode"] == "human"
        handoff = await chat.wait_for(lambda f: f.get("author") == "system")
        assert handoff["text"] == "Let me connect you with a teammate."

        created = await bridge.wait_event(lambda e: e["kind"] == "ticket_created")
        assert created["payload"]["channel"] == "whatsapp"
        async with store.read() as session:
            ticket = await session.get(Ticket, created["ticket_id"])
            conversation = await session.get(Conversation, ticket.conversation_id)
        assert ticket.channel == "whatsapp" and ticket.source == "escalation"
        assert ticket.reason == "the customer asked for a person"
        assert conversation.public_id == chat.conversation_id and not conversation.ai_enabled
        await bridge.wait_event(lambda e: e["kind"] == "summary_ready")
        asked = len(fake.requests)

        # Paused: the customer is heard (stored, streamed to agents) but the bot stays quiet.
        fake.push(Behaviour(kind="text", content="THE BOT MUST NOT SAY THIS"))
        quiet_id = await chat.send("Hello? Is anyone there?")
        await bridge.wait_event(lambda e: e["kind"] == "message" and e["payload"]["message_id"] == quiet_id)

        await add_note(store, ticket.id, ana.id, NOTE)
        await bridge.wait_event(lambda e: e["kind"] == "note")
        reply = await send_agent_reply(store, ticket.id, ana.id, "Hi Lucía, I'm Ana. How can I help?")
        got = await chat.wait_for(lambda f: f.get("author") == "agent")
        assert got["id"] == reply.id and got["name"] == "Ana" and got["text"].startswith("Hi Lucía")
        assert len(fake.requests) == asked  # nobody asked the model while the AI was paused

        await allow_ai_replies(store, ticket.id, ana.id)
        assert (await chat.wait_for(lambda f: f["type"] == "mode"))["mode"] == "bot"
        await bridge.wait_event(lambda e: e["kind"] == "ticket_closed")

        fake.queue.clear()
        fake.push(Behaviour(kind="text", content="Happy to help again!"))
        await chat.send("Thanks! One more question about shipping")
        again = await chat.wait_for(lambda f: f.get("author") == "bot")
        assert again["text"] == "Happy to help again!"

        await bridge.read_until_quiet()
        thread = [m["text"] for m in chat.messages.values()]
        assert NOTE not in thread and "THE BOT MUST NOT SAY THIS" not in thread
        for frame in chat.drain():
            assert NOTE not in str(frame)
        ids = [e["id"] for e in bridge.events]
        assert ids == sorted(set(ids)), "bridge events out of order or twice"
        kinds = {e["kind"] for e in bridge.events}
        assert {
            "escalated",
            "ai_paused",
            "ticket_created",
            "assigned",
            "summary_ready",
            "message",
            "note",
            "ai_resumed",
            "ticket_closed",
        } <= kinds
        async with store.read() as session:
            thread = (
                await session.execute(
                    select(Message.author, Message.text)
                    .where(Message.conversation_id == conversation.id)
                    .order_by(Message.id)
                )
            ).all()
        # The status lines (queued, who joined) come on top of the handoff.
        authors = [author for author, text in thread if not is_status_line(text)]
        assert authors == ["customer", "system", "customer", "agent", "customer", "bot"]
    finally:
        await chat.close()
        await bridge.close()


async def wait_until(predicate, timeout: float = 5.0, every: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await predicate():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(every)
