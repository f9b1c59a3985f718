"""`inbox-tui chat` for real: the installed entry point in a subprocess, a person's lines on
its stdin, against a real channel server on loopback with the offline bot."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from inbox_tui.channel.server import ChannelServer
from inbox_tui.core import tickets, views
from inbox_tui.core.agents import add_agent
from inbox_tui.demo.services import demo_settings
from inbox_tui.runtime import Runtime, open_runtime
from inbox_tui.settings import load_settings

ENTRY_POINT = str(Path(sys.executable).parent / "inbox-tui")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    runtime: Runtime
    server: ChannelServer


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    runtime = await open_runtime(demo_settings(load_settings()))
    server = ChannelServer(runtime, port=0)
    await server.start()
    served = Served(runtime, server)
    try:
        yield served
    finally:
        await served.server.stop()  # a test may have replaced it (a restart)
        await runtime.close()


class ChatProcess:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.seen: list[str] = []

    async def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((line + "\n").encode())
        await self.process.stdin.drain()

    async def expect(self, fragment: str, timeout: float = 10.0) -> str:
        assert self.process.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.process.stdout.readline()
                if not raw:
                    raise AssertionError(f"chat ended before {fragment!r}; saw {self.seen}")
                line = raw.decode().rstrip("\n")
                self.seen.append(line)
                if fragment in line:
                    return line

    async def expect_all(self, *fragments: str, timeout: float = 10.0) -> None:
        """Each fragment on some line, in any order (a mode change and the message that
        goes with it may come either way round)."""
        missing = [f for f in fragments if not any(f in line for line in self.seen)]
        async with asyncio.timeout(timeout):
            while missing:
                line = await self.expect("", timeout)
                missing = [f for f in missing if f not in line]

    async def finish(self) -> int:
        await self.type("/quit")
        return await asyncio.wait_for(self.process.wait(), 10)


async def start_chat(*args: str) -> ChatProcess:
    process = await asyncio.create_subprocess_exec(
        ENTRY_POINT,
        "chat",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "LANG": "C.UTF-8"},
    )
    return ChatProcess(process)


@asynccontextmanager
async def running_chat(*args: str) -> AsyncIterator[ChatProcess]:
    """``start_chat``, killed on the way out if the test did not finish it."""
    chat = await start_chat(*args)
    try:
        yield chat
    finally:
        if chat.process.returncode is None:
            chat.process.kill()
            await chat.process.wait()


async def ticket_of(runtime: Runtime, customer: str) -> int | None:
    async with runtime.store.read() as session:
        rows = await views.tickets(session, views.View.ALL_OPEN)
    return next((row.id for row in rows if row.requester == customer), None)


async def test_a_person_plays_the_customer_through_handoff_and_back(served: Served) -> None:
    url = served.server.url
    agent, _ = await add_agent(served.runtime.store, "ana", "Ana Silva")
    async with running_chat("--url", url, "--name", "Rosa Díaz", "--locale", "es-ES") as chat:
        await chat.expect("type a message")
        await chat.type("Hola, ¿cuánto tarda el envío a Valencia?")
        await chat.expect("Enviamos las bicis en 2 días laborables")  # the bot, from the knowledge file
        await chat.type("Quiero hablar con una persona, por favor.")
        # The handoff, in Spanish, and the change of hands.
        # Nobody is online: the customer hears they are queued, never that someone joined.
        await chat.expect_all(
            "Te pongo en contacto con un compañero del equipo.",
            "handed this conversation to our team",
            "Estás en la cola",
        )

        ticket_id = None
        async with asyncio.timeout(10):
            while ticket_id is None:
                ticket_id = await ticket_of(served.runtime, "Rosa Díaz")
                await asyncio.sleep(0.1)
        await tickets.send_agent_reply(
            served.runtime.store, ticket_id, agent.id, "Hola Rosa, soy Ana. [b]¿En qué te ayudo?[/b] \x1b]52;c;aGk=\x07"
        )
        await chat.expect("Ana Silva se ha unido a la conversación.")  # with her first reply
        line = await chat.expect("Ana Silva: Hola Rosa")
        assert "\x1b" not in line and "␛]52;c;aGk=␇" in line  # escape sequences shown, not obeyed
        await chat.type("Gracias, ya está resuelto.")
        await tickets.allow_ai_replies(served.runtime.store, ticket_id, agent.id)
        await chat.expect("chatting with the assistant again")
        assert await chat.finish() == 0

    # Run again: the saved token resumes the same conversation, history included.
    async with running_chat("--url", url, "--name", "Rosa Díaz", "--locale", "es-ES") as again:
        await again.expect("resumed your conversation")
        await again.expect("You: Hola, ¿cuánto tarda el envío a Valencia?")
        await again.expect("Ana Silva: Hola Rosa")
        await again.type("¿Y puedo pagar con tarjeta?")
        await again.expect("Aceptamos Visa")
        assert await again.finish() == 0
    async with served.runtime.store.read() as session:
        live = [row for row in await views.conversations(session) if row.customer_name == "Rosa Díaz"]
    assert len(live) == 1  # one conversation, resumed


async def test_unreachable_server_and_missing_demo_are_clear_errors(tmp_path: Path) -> None:
    chat = await start_chat("--url", "ws://127.0.0.1:9")
    line = await chat.expect("Error")
    assert "cannot reach ws://127.0.0.1:9" in line
    assert await asyncio.wait_for(chat.process.wait(), 10) == 1

    chat = await start_chat("--demo")
    line = await chat.expect("Error")
    assert "no demo is running" in line
    assert await asyncio.wait_for(chat.process.wait(), 10) == 1


async def test_chat_joins_a_headless_demo_from_a_second_terminal(tmp_path: Path) -> None:
    """`inbox-tui demo --no-tui` in one terminal, `inbox-tui chat --demo` in another."""
    demo = await asyncio.create_subprocess_exec(
        ENTRY_POINT,
        "demo",
        "--no-tui",
        "--no-customers",
        "--reset",
        "--port",
        str(_free_port()),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert demo.stdout is not None
        banner = b""
        async with asyncio.timeout(30):
            while b"running; press Ctrl+C" not in banner:
                line = await demo.stdout.readline()
                assert line, f"the demo ended: {banner.decode()}"
                banner += line
        assert b"inbox-tui chat --demo" in banner and b"INBOX_TOKEN=" in banner

        async with running_chat("--demo", "--name", "Léa Fontaine", "--locale", "fr-FR") as chat:
            await chat.expect("type a message")
            await chat.type("Bonjour, quel est le délai de livraison pour Nantes ?")
            await chat.expect("Nous expédions les vélos sous 2 jours ouvrés")
            await chat.type("Je voudrais parler à un conseiller.")
            await chat.expect_all(
                "Je vous mets en relation avec un membre de l'équipe.", "handed this conversation to our team"
            )
            assert await chat.finish() == 0

        demo.terminate()  # SIGTERM, as a service manager would
        assert await asyncio.wait_for(demo.wait(), 15) == 0
        data = Path(os.environ["INBOX_DATA_DIR"])
        assert not (data / "demo-server.json").exists()
    finally:
        if demo.returncode is None:
            demo.kill()
            await demo.wait()


async def test_chat_rides_out_a_server_restart(served: Served) -> None:
    runtime, port = served.runtime, served.server.port
    async with running_chat("--url", served.server.url, "--name", "Tomás Silva", "--locale", "pt-PT") as chat:
        await chat.expect("type a message")
        await served.server.stop()
        await chat.expect("connection lost; reconnecting")
        served.server = ChannelServer(runtime, port=port)  # the fixture stops this one
        await served.server.start()
        await chat.expect("(reconnected)", timeout=20)
        await chat.type("Quanto tempo demora a entrega para Braga?")
        await chat.expect("Enviamos as bicicletas em 2 dias úteis")
        assert await chat.finish() == 0
