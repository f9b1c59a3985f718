"""Simulated customers for the demo: several at once, continuously but gently.

Each customer is a real websocket client of the customer endpoint (the project's one
``CustomerClient``), playing a script from ``scripts``: it types at a human pace,
waits for the bot, and, once a teammate has the conversation, answers their replies
and says goodbye when the bot is back. Arrivals are spaced out and capped so the demo
stays readable and light on a small machine.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass

from inbox_tui.channel.tasks import cancel_and_wait
from inbox_tui.client.customer import CustomerClient, Frame
from inbox_tui.demo.scripts import ALL_SCRIPTS, CustomerScript, Intent, first_wave

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pace:
    """How fast the simulated customers act, in seconds."""

    first_wave_typing: tuple[float, float] = (0.3, 1.0)
    typing_per_char: float = 0.04
    typing_bounds: tuple[float, float] = (1.5, 5.0)
    answer_timeout: float = 15.0
    #: How long a customer waiting for a person (or idling) stays connected.
    linger: tuple[float, float] = (240.0, 480.0)
    arrival_every: tuple[float, float] = (6.0, 14.0)
    max_active: int = 6
    max_waiting: int = 4

    def typing(self, text: str, rng: random.Random, *, quick: bool = False) -> float:
        if quick:
            return rng.uniform(*self.first_wave_typing)
        low, high = self.typing_bounds
        return min(max(1.0 + len(text) * self.typing_per_char, low), high) * rng.uniform(0.7, 1.3)


async def _next_frame(client: CustomerClient, timeout: float) -> Frame | None:
    """The next frame, or None when none came in time (the caller moves on)."""
    try:
        return await client.receive(timeout=timeout)
    except TimeoutError:
        return None


class SimulatedCustomer:
    """One customer playing one script over one connection."""

    def __init__(
        self, server_url: str, script: CustomerScript, pace: Pace, rng: random.Random, *, quick_start: bool = False
    ) -> None:
        self.server_url = server_url
        self.script = script
        self.pace = pace
        self.rng = rng
        self.quick_start = quick_start

    async def run(self) -> None:
        persona = self.script.persona
        customer = {"id": persona.customer_id, "name": persona.name, "email": persona.email, "locale": persona.locale}
        async with CustomerClient(self.server_url, channel=persona.channel, customer=customer) as client:
            for index, line in enumerate(self.script.opening):
                await asyncio.sleep(self.pace.typing(line, self.rng, quick=self.quick_start and index == 0))
                await client.send(line)
                await self._wait_for_answer(client)
                if client.mode == "human":
                    break
            if self.script.intent is Intent.QUESTION:
                await asyncio.sleep(self.rng.uniform(2.0, 6.0))  # reads the answer, then leaves
                return
            await self._talk_to_teammates(client)

    async def _wait_for_answer(self, client: CustomerClient) -> None:
        """Until the bot or the handoff answers (or a teammate took over meanwhile)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.pace.answer_timeout
        while (left := deadline - loop.time()) > 0:
            frame = await _next_frame(client, left)
            if frame is None:
                return
            if frame.get("type") == "mode" and frame.get("mode") == "human":
                return
            if frame.get("type") == "message" and frame.get("author") in ("bot", "system", "agent"):
                return

    async def _talk_to_teammates(self, client: CustomerClient) -> None:
        replies = list(self.script.to_teammate)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.rng.uniform(*self.pace.linger)
        had_teammate = client.mode == "human"
        while (left := deadline - loop.time()) > 0:
            frame = await _next_frame(client, left)
            if frame is None:
                return
            if frame.get("type") == "mode":
                if frame.get("mode") == "human":
                    had_teammate = True
                elif had_teammate:
                    # Handed back to the bot: say goodbye and leave.
                    if self.script.farewell:
                        await asyncio.sleep(self.pace.typing(self.script.farewell, self.rng))
                        await client.send(self.script.farewell)
                        await self._wait_for_answer(client)
                    return
            elif frame.get("type") == "message" and frame.get("author") == "agent" and replies:
                line = replies.pop(0)
                await asyncio.sleep(self.pace.typing(line, self.rng))
                await client.send(line)


class CustomerSimulation:
    """Keeps a few simulated customers coming, until stopped."""

    def __init__(
        self,
        server_url: str,
        *,
        rng: random.Random | None = None,
        pace: Pace | None = None,
        scripts: Sequence[CustomerScript] = ALL_SCRIPTS,
        opening: Sequence[CustomerScript] | None = None,
    ) -> None:
        self.server_url = server_url
        self.rng = rng or random.Random()
        self.pace = pace or Pace()
        self.scripts = tuple(scripts)
        self.opening = tuple(first_wave() if opening is None else opening)
        self._active: dict[asyncio.Task[None], CustomerScript] = {}
        self._task: asyncio.Task[None] | None = None
        self.started = 0
        self.failed = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="demo-customers")

    async def stop(self) -> None:
        await cancel_and_wait([self._task, *self._active])
        self._active.clear()
        self._task = None

    @property
    def active(self) -> list[CustomerScript]:
        return list(self._active.values())

    async def _run(self) -> None:
        for script in self.opening:
            self._launch(script, quick_start=True)
            await asyncio.sleep(self.rng.uniform(0.2, 0.6))
        while True:
            await asyncio.sleep(self.rng.uniform(*self.pace.arrival_every))
            arriving = self._next_script()
            if arriving is not None:
                self._launch(arriving)

    def _next_script(self) -> CustomerScript | None:
        if len(self._active) >= self.pace.max_active:
            return None
        busy = {s.persona.customer_id for s in self._active.values()}
        waiting = sum(1 for s in self._active.values() if s.intent is not Intent.QUESTION)
        candidates = [
            s
            for s in self.scripts
            if s.persona.customer_id not in busy and (waiting < self.pace.max_waiting or s.intent is Intent.QUESTION)
        ]
        if not candidates:
            return None
        # About half the arrivals just have a question, as on a real help desk.
        questions = [s for s in candidates if s.intent is Intent.QUESTION]
        others = [s for s in candidates if s.intent is not Intent.QUESTION]
        pool = questions if questions and (not others or self.rng.random() < 0.5) else others
        return self.rng.choice(pool)

    def _launch(self, script: CustomerScript, *, quick_start: bool = False) -> None:
        customer = SimulatedCustomer(
            self.server_url, script, self.pace, random.Random(self.rng.random()), quick_start=quick_start
        )
        task = asyncio.create_task(self._play(customer), name=f"demo-customer-{script.persona.customer_id}")
        self._active[task] = script
        task.add_done_callback(lambda done: self._active.pop(done, None))
        self.started += 1

    async def _play(self, customer: SimulatedCustomer) -> None:
        try:
            await customer.run()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - one customer's failure never stops the demo
            self.failed += 1
            log.info("simulated customer %s stopped: %s", customer.script.persona.name, error)
