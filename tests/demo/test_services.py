"""The demo's services for real: the channel server on loopback, the offline bot with the
demo knowledge file, the demo team and simulated customers over real websockets, on a
real SQLite file."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from websockets.asyncio.client import connect

from inbox_tui.channel.bridge_protocol import BRIDGE_PATH, auth_frame
from inbox_tui.channel.server import ChannelServer
from inbox_tui.core import conversations, escalation, tickets, views
from inbox_tui.core.agents import get_agent
from inbox_tui.core.models import TicketSource
from inbox_tui.core.store import Store
from inbox_tui.demo.launch import demo_server_file, running_demo, running_demo_url
from inbox_tui.demo.scripts import IDLE_SCRIPTS, QUESTION_SCRIPTS
from inbox_tui.demo.services import DEMO_TOKENS, demo_database_path, run_demo_services
from inbox_tui.demo.simulation import CustomerSimulation, Pace
from inbox_tui.demo.team import DEMO_USER, ensure_demo_team
from inbox_tui.runtime import open_runtime
from inbox_tui.settings import load_settings, secret

T = TypeVar("T")
FAST = Pace(
    first_wave_typing=(0.05, 0.1),
    typing_per_char=0.0,
    typing_bounds=(0.05, 0.1),
    answer_timeout=5.0,
    linger=(30.0, 30.0),
    arrival_every=(60.0, 60.0),
)


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 10.0) -> T:
    """Poll ``probe`` until it returns something truthy."""
    async with asyncio.timeout(timeout):
        while True:
            result = await probe()
            if result:
                return result
            await asyncio.sleep(0.2)


def port_is_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


async def transcript_of(store: Store, customer_name: str) -> list[tuple[str, str]]:
    async with store.read() as session:
        rows = [row for view in (views.View.CONVERSATIONS,) for row in await views.page(session, view)]
        tickets_open = await views.tickets(session, views.View.ALL_OPEN)
        ids = [r.id for r in rows if r.customer_name == customer_name]
        ids += [t.conversation_id for t in tickets_open if t.requester == customer_name]
        lines: list[tuple[str, str]] = []
        for conversation_id in ids:
            lines += [(m.author, m.text) for m in await conversations.transcript(session, conversation_id)]
        return lines


async def test_headless_demo_fills_the_inbox_and_stops_cleanly(tmp_path: Path) -> None:
    settings = load_settings()
    async with run_demo_services(settings, seed=7, port=0) as services:
        assert services.settings.database_url.endswith(str(demo_database_path()))
        assert secret(services.settings.tui.token) == services.tokens[DEMO_USER]
        store = Store(services.settings.database_url)
        try:

            async def escalated_and_listed() -> bool:
                async with store.read() as session:
                    live = await views.conversations(session)
                    open_tickets = await views.tickets(session, views.View.ALL_OPEN)
                return len(live) >= 2 and any(t.source == TicketSource.ESCALATION for t in open_tickets)

            await eventually(escalated_and_listed, timeout=10)

            # The bot escalated Julien (French) and the handoff reached him in French.
            julien = await eventually(lambda: transcript_of(store, "Julien Moreau"))
            assert ("system", "Je vous mets en relation avec un membre de l'équipe.") in julien
            # Emily's question was answered from the demo knowledge file.
            emily = await eventually(lambda: _with_bot_reply(transcript_of(store, QUESTION_SCRIPTS[0].persona.name)))
            assert any("ship within 2 working days" in text for author, text in emily if author == "bot")

            # The demo teammate's token opens the agents' bridge.
            async with connect(services.server_url + BRIDGE_PATH) as bridge:
                await bridge.send(json.dumps(auth_frame(services.tokens[DEMO_USER], 0)))
                ready = json.loads(await asyncio.wait_for(bridge.recv(), 5))
                assert ready["type"] == "ready" and ready["agent"]["handle"] == DEMO_USER
        finally:
            await store.close()
    assert port_is_closed(services.port)
    assert not [t for t in threading.enumerate() if t.name.startswith("inbox-demo")]


async def _with_bot_reply(lines: Awaitable[list[tuple[str, str]]]) -> list[tuple[str, str]] | None:
    result = await lines
    return result if any(author == "bot" for author, _ in result) else None


async def test_a_waiting_customer_talks_to_the_teammate_who_took_over(tmp_path: Path) -> None:
    """Take over an idle customer: they answer the teammate, and say goodbye to the bot
    once AI replies are allowed again."""
    from dataclasses import replace

    from inbox_tui.demo.services import demo_settings

    settings = demo_settings(load_settings())
    runtime = await open_runtime(settings)
    server = ChannelServer(runtime, port=0)
    await server.start()
    simulation = CustomerSimulation(server.url, pace=FAST, opening=(IDLE_SCRIPTS[1],), scripts=())
    script = IDLE_SCRIPTS[1]  # Elena, Spanish
    try:
        tokens = await ensure_demo_team(runtime.store, tmp_path / DEMO_TOKENS)
        assert tokens
        ana = await get_agent(runtime.store, DEMO_USER)
        simulation.start()

        async def waiting_conversation() -> int | None:
            async with runtime.store.read() as session:
                rows = await views.conversations(session)
                return next(
                    (r.id for r in rows if r.customer_name == script.persona.name and r.message_count >= 2), None
                )

        conversation_id = await eventually(waiting_conversation)
        result = await escalation.escalate(
            runtime.store,
            conversation_id,
            source=TicketSource.TAKEOVER,
            actor_id=ana.id,
            settings=replace(runtime.escalation),
        )
        assert result.created
        await tickets.send_agent_reply(
            runtime.store,
            result.ticket_id,
            ana.id,
            "¡Hola Elena! Sí, un 10 % con el carné de estudiante. ¿Dónde estudias?",
        )

        async def customer_said(text: str) -> bool:
            async with runtime.store.read() as session:
                lines = await conversations.transcript(session, conversation_id)
            return any(m.author == "customer" and m.text == text for m in lines)

        await eventually(lambda: customer_said(script.to_teammate[0]))
        await tickets.allow_ai_replies(runtime.store, result.ticket_id, ana.id)
        await eventually(lambda: customer_said(script.farewell))

        async def bot_said_you_are_welcome() -> bool:
            async with runtime.store.read() as session:
                lines = await conversations.transcript(session, conversation_id)
            return lines[-1].author == "bot" and "De nada" in lines[-1].text

        await eventually(bot_said_you_are_welcome)
        assert simulation.failed == 0
    finally:
        await simulation.stop()
        await server.stop()
        await runtime.close()


def test_background_demo_announces_itself_and_leaves_nothing_behind(tmp_path: Path) -> None:
    settings = load_settings()
    assert running_demo_url() is None
    with running_demo(settings, customers=False, port=0) as services:
        assert running_demo_url() == services.server_url
        with socket.create_connection(("127.0.0.1", services.port), timeout=2):
            pass
    assert not demo_server_file().exists()
    assert port_is_closed(services.port)
    assert not [t for t in threading.enumerate() if t.name.startswith("inbox-demo")]

    # Kept between runs; --reset starts afresh (new teammates, new tokens).
    with running_demo(settings, customers=False, port=0) as again:
        assert again.tokens == services.tokens
    with running_demo(settings, customers=False, reset=True, port=0) as fresh:
        assert fresh.tokens[DEMO_USER] != services.tokens[DEMO_USER]


def test_a_broken_database_location_is_a_clear_start_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from inbox_tui.demo.background import DemoStartError

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("INBOX_DATA_DIR", str(blocker / "data"))
    with pytest.raises(DemoStartError, match="could not start"), running_demo(load_settings(), customers=False, port=0):
        pass
    assert not [t for t in threading.enumerate() if t.name.startswith("inbox-demo")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_demo_keeps_its_address_across_runs_and_says_when_it_cannot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from inbox_tui.demo import services as demo_services

    usual = _free_port()  # stands for the demo's usual port, so tests can run side by side
    monkeypatch.setattr(demo_services, "DEMO_PORT", usual)
    settings = load_settings()
    with running_demo(settings, customers=False) as first:
        assert first.port == usual and first.port_note is None
    with running_demo(settings, customers=False) as second:
        assert second.server_url == first.server_url  # `chat --demo` resumes its conversation
        assert running_demo_url() == first.server_url
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", usual))
        squatter.listen()
        with running_demo(settings, customers=False) as moved:
            assert moved.port != usual
            assert moved.port_note is not None and f"port {usual}" in moved.port_note
            assert str(moved.port) in moved.port_note
            assert running_demo_url() == moved.server_url
