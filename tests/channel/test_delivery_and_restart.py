"""Agent replies reach the customer now or on the next connect, and a server restart in
the middle of a conversation loses nothing."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from inbox_tui.channel.server import ChannelServer
from inbox_tui.client.customer import CustomerClient
from inbox_tui.core.agents import add_agent
from inbox_tui.core.customer_status import is_status_line
from inbox_tui.core.escalation import escalate
from inbox_tui.core.models import Conversation, Message
from inbox_tui.core.tickets import add_note, send_agent_reply
from tests.channel.scenario import wait_until
from tests.conftest import BACKENDS, both_backends


async def _conversation_id(store, public_id: str) -> int:  # type: ignore[no-untyped-def]
    async with store.read() as session:
        return int(await session.scalar(select(Conversation.id).where(Conversation.public_id == public_id)))


async def _undelivered(store, conversation_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    async with store.read() as session:
        return list(
            await session.scalars(
                select(Message.text).where(Message.conversation_id == conversation_id, Message.delivered_at.is_(None))
            )
        )


@both_backends
async def test_server_restart_mid_conversation(start_channel) -> None:
    channel = await start_channel()
    store = channel.store
    ana, _token = await add_agent(store, "ana", "Ana")
    chat = CustomerClient(channel.url, customer={"id": "c1", "name": "Olu", "locale": "en"})
    await chat.connect()
    await chat.send("What are your opening hours?")
    await chat.wait_for(lambda f: f.get("author") == "bot")
    conversation_id = await _conversation_id(store, chat.conversation_id)
    ticket = await escalate(
        store, conversation_id, source="takeover", actor_id=ana.id, settings=channel.runtime.escalation
    )
    await chat.wait_for(lambda f: f.get("author") == "system")  # the handoff
    await wait_until(lambda: _is_empty(_undelivered(store, conversation_id)))

    # The server goes away; meanwhile the teammate answers and writes a note.
    await channel.server.stop()
    await add_note(store, ticket.ticket_id, ana.id, "internal: VIP customer")
    queued = await send_agent_reply(store, ticket.ticket_id, ana.id, "Sorry for the wait, I'm Ana.")
    assert await _undelivered(store, conversation_id) == ["Sorry for the wait, I'm Ana."]

    restarted = ChannelServer(channel.runtime, "127.0.0.1", 0)
    await restarted.start()
    try:
        chat.url = restarted.chat_url
        welcome = await chat.reconnect()
        history = [(m["author"], m["text"]) for m in welcome["history"]]
        assert history[0] == ("customer", "What are your opening hours?")
        assert history[-1] == ("agent", "Sorry for the wait, I'm Ana.")
        # The handoff, and the status line after it (Ana took over, so she joined).
        assert [a for a, t in history if not is_status_line(t)] == ["customer", "bot", "system", "agent"]
        assert welcome["mode"] == "human"
        # The queued reply reaches the client's reader as a new message, once.
        arrived = await chat.wait_for(lambda f: f.get("author") == "agent")
        assert arrived["id"] == queued.id
        assert all("VIP" not in m["text"] for m in chat.messages.values())
        await wait_until(lambda: _is_empty(_undelivered(store, conversation_id)))

        # Live again: the next reply arrives on the open socket, and the customer is heard.
        await send_agent_reply(store, ticket.ticket_id, ana.id, "Anything else?")
        assert (await chat.wait_for(lambda f: f.get("author") == "agent"))["text"] == "Anything else?"
        await chat.send("No, thanks!")
        await restarted.wait_idle()
        async with store.read() as session:
            authors = list(
                await session.scalars(
                    select(Message.author).where(Message.conversation_id == conversation_id).order_by(Message.id)
                )
            )
        assert authors[-1] == "customer"  # the teammate has it: the offline bot stays quiet
        texts = [m["text"] for m in chat.messages.values()]
        assert texts.count("Sorry for the wait, I'm Ana.") == 1
        assert texts[-2:] == ["Anything else?", "No, thanks!"]
    finally:
        await chat.close()
        await restarted.stop()


async def _is_empty(awaitable) -> bool:  # type: ignore[no-untyped-def]
    return not await awaitable


async def test_two_sockets_on_one_conversation_both_see_everything_once(start_channel) -> None:
    channel = await start_channel()
    async with CustomerClient(channel.url, customer={"id": "c1", "locale": "en"}) as phone:
        await phone.send("opening hours?")
        await phone.wait_for(lambda f: f.get("author") == "bot")
        laptop = CustomerClient(channel.url, conversation_id=phone.conversation_id, token=phone.token)
        await laptop.connect()
        try:
            sent = await laptop.send("and delivery?")
            seen = await phone.wait_for(lambda f: f.get("id") == sent)
            assert seen["author"] == "customer"
            await phone.wait_for(lambda f: f.get("author") == "bot" and "2 business days" in f["text"])
            await laptop.wait_for(lambda f: f.get("author") == "bot" and "2 business days" in f["text"])
            assert sorted(phone.messages) == sorted(laptop.messages)
        finally:
            await laptop.close()


@pytest.mark.parametrize("database_url", [p for p in BACKENDS if p.id == "postgresql"], indirect=True)
async def test_lost_listen_connection_is_restored_and_nothing_is_missed(start_channel, database_url: str) -> None:
    import asyncpg

    channel = await start_channel()
    store = channel.store
    ana, _token = await add_agent(store, "ana", "Ana")
    async with CustomerClient(channel.url, customer={"id": "c1", "locale": "en"}) as chat:
        await chat.send("opening hours?")
        await chat.wait_for(lambda f: f.get("author") == "bot")
        conversation_id = await _conversation_id(store, chat.conversation_id)
        ticket = await escalate(
            store, conversation_id, source="takeover", actor_id=ana.id, settings=channel.runtime.escalation
        )
        await chat.wait_for(lambda f: f["type"] == "mode")
        admin = await asyncpg.connect(store.url.set(drivername="postgresql").render_as_string(hide_password=False))
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
            )
        finally:
            await admin.close()
        assert killed == 1
        # Committed while the node cannot hear notifications: caught up on reconnect.
        await send_agent_reply(store, ticket.ticket_id, ana.id, "Still here?")
        assert (await chat.wait_for(lambda f: f.get("author") == "agent"))["text"] == "Still here?"
        await send_agent_reply(store, ticket.ticket_id, ana.id, "And now?")
        assert (await chat.wait_for(lambda f: f.get("author") == "agent"))["text"] == "And now?"


async def test_summaries_left_pending_by_a_dead_worker_are_finished_at_start(database_url: str, tmp_path) -> None:
    from inbox_tui.core.conversations import record_customer_message, start_conversation
    from inbox_tui.core.models import Ticket
    from inbox_tui.runtime import open_runtime
    from tests.channel.conftest import make_settings

    settings = make_settings(database_url, tmp_path).replace(summary_lease_seconds=0.2)
    runtime = await open_runtime(settings, migrate=False)
    server = None
    try:
        started = await start_conversation(runtime.store, channel="web", customer_id="c1", locale="en")
        await record_customer_message(runtime.store, started.conversation.id, "My parcel never arrived.")
        ana, _token = await add_agent(runtime.store, "ana", "Ana")
        # A teammate's inbox took over and died before writing the summary.
        ticket = await escalate(
            runtime.store, started.conversation.id, source="takeover", actor_id=ana.id, settings=runtime.escalation
        )
        await asyncio.sleep(0.3)  # the lease runs out
        server = ChannelServer(runtime, "127.0.0.1", 0)
        await server.start()

        async def summarized() -> bool:
            async with runtime.store.read() as session:
                return (await session.get(Ticket, ticket.ticket_id)).summary_state != "pending"

        await wait_until(summarized)
        async with runtime.store.read() as session:
            written = await session.get(Ticket, ticket.ticket_id)
        assert written.summary_state == "fallback" and "parcel" in written.subject
    finally:
        if server is not None:
            await server.stop()
        await runtime.close()
