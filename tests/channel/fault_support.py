"""What the fault tests share: a real ``inbox-tui serve`` process on a port that stays the
same across restarts (so clients resume at the address they know), and customers that
keep writing through the faults the way a real client must: resume with their token,
resend what was not acked with the same client id.

Loop sizes come from the environment so a person can run the loops long by hand
(``INBOX_FAULT_RESTARTS=30``); the defaults keep a CI run short."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import socket
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy import func, select
from websockets.exceptions import WebSocketException

from inbox_tui.client.customer import ChatError, CustomerClient
from inbox_tui.core.models import Author, Conversation, Message
from inbox_tui.core.store import Store
from tests.support.fake_openai import FakeOpenAI

LISTENING = re.compile(r"listening on (ws://[\d.]+:\d+)")


def loop_size(name: str, default: int) -> int:
    """``INBOX_FAULT_<NAME>`` when set (a long run by hand), else the CI default."""
    return int(os.environ.get(f"INBOX_FAULT_{name}", default))


def fault_seed() -> int:
    """The seed of a run's random fault points, printed with its figures to replay it."""
    return int(os.environ.get("INBOX_FAULT_SEED") or random.SystemRandom().randrange(1 << 30))


def quiet_when_hung_up_on(fake: FakeOpenAI) -> None:
    """A killed server hangs up on the fake model mid-request, on purpose: no traceback
    for each one, and no waiting for its sleeping handlers at the end."""
    fake.server.block_on_close = False
    fake.server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServeProcess:
    """``inbox-tui serve`` on a loopback port (0: any free one); its log goes to a file (a pipe that
    nobody reads would fill up and stall the server mid-test)."""

    def __init__(self, process: asyncio.subprocess.Process, url: str, log: IO[bytes]) -> None:
        self.process = process
        self.url = url
        self._log = log
        self._stdout = asyncio.create_task(self._drain())

    @classmethod
    async def start(cls, env: dict[str, str], port: int, log_path: Path) -> ServeProcess:
        log = log_path.open("ab")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "inbox_tui",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        assert process.stdout is not None
        try:
            async with asyncio.timeout(60):
                line = await process.stdout.readline()
        except TimeoutError:
            process.kill()
            log.close()
            raise
        found = LISTENING.search(line.decode())
        if not found:
            process.kill()
            await process.wait()
            log.close()
            raise AssertionError(f"serve did not start: {line!r}; log: {log_path.read_text()[-2000:]}")
        return cls(process, found.group(1), log)

    async def _drain(self) -> None:
        assert self.process.stdout is not None
        while await self.process.stdout.readline():
            pass

    async def stop(self, sig: int = 15) -> int:
        """Send ``sig`` (SIGTERM unless told), wait for the exit, return its code."""
        if self.process.returncode is None:
            self.process.send_signal(sig)
            try:
                async with asyncio.timeout(30):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        with contextlib.suppress(asyncio.CancelledError):
            self._stdout.cancel()
            await self._stdout
        self._log.close()
        return self.process.returncode  # type: ignore[return-value]


# What a customer meets while the server or its database is away; each is retried.
RETRIED = (ChatError, OSError, WebSocketException, TimeoutError)
# The error frames that say "try again"; any other one is a failure of the test.
RETRIED_CODES = {"disconnected", "unavailable", "not_connected"}


@dataclass
class Customer:
    """One customer writing ``messages`` lines, each acked before the next is sent."""

    url: str
    name: str
    rng: random.Random
    pause: float = 0.05
    acked: list[str] = field(default_factory=list)
    acked_at: list[float] = field(default_factory=list)  # the event loop's clock, per ack
    retries: Counter[str] = field(default_factory=Counter)
    conversation_id: str | None = None
    client: CustomerClient | None = None

    async def run(self, faults_over: asyncio.Event, deadline: float, at_least: int = 1) -> None:
        """Write until the faults are over (and ``at_least`` lines), then one line more."""
        loop = asyncio.get_running_loop()
        self.client = CustomerClient(self.url, customer={"id": self.name, "locale": "en"})
        self.client.ack_timeout = 10.0
        try:
            n = 0
            last = None
            while last is None or n <= last:
                if last is None and faults_over.is_set() and n >= at_least:
                    last = n
                text = f"{self.name} question {n}"
                client_id = uuid.uuid4().hex  # the same id for every resend of this line
                while True:
                    if loop.time() > deadline:
                        raise AssertionError(f"{self.name} could not get {text!r} acked in time: {self.retries}")
                    try:
                        if not self.client.connected:
                            await self.client.close()
                            await self.client.connect(open_timeout=5)
                            self.conversation_id = self.client.conversation_id
                        await self.client.send(text, client_id=client_id)
                        break
                    except RETRIED as error:
                        code = error.code if isinstance(error, ChatError) else type(error).__name__
                        if isinstance(error, ChatError) and code not in RETRIED_CODES:
                            raise AssertionError(f"{self.name}: {text!r} refused: {code}: {error}") from error
                        self.retries[code] += 1
                        await self.client.close()
                        await asyncio.sleep(0.05 + self.rng.random() * 0.2)
                self.acked.append(text)
                self.acked_at.append(loop.time())
                n += 1
                await asyncio.sleep(self.rng.random() * self.pause)
        finally:
            await self.client.close()


async def stored_messages(store: Store) -> dict[str, list[tuple[str, str]]]:
    """Every conversation's messages in order, as (author, text), by public id."""
    async with store.read() as session:
        rows = await session.execute(
            select(Conversation.public_id, Message.author, Message.text)
            .join(Message, Message.conversation_id == Conversation.id)
            .order_by(Message.id)
        )
        stored: dict[str, list[tuple[str, str]]] = {}
        for public_id, author, text in rows:
            stored.setdefault(public_id, []).append((author, text))
        return stored


async def bot_answers(store: Store) -> int:
    async with store.read() as session:
        return int(await session.scalar(select(func.count()).where(Message.author == Author.BOT)) or 0)


async def conversations(store: Store) -> int:
    async with store.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Conversation)) or 0)
