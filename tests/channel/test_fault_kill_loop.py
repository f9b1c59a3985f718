"""Nothing lost, nothing twice, under kill -9 and SIGTERM: a real ``inbox-tui serve`` is
stopped at random points while customers keep writing (their lines acked one by one,
the model answering with a random delay, so a stop lands before an ack, between an ack
and its answer, or inside a commit), and started again on the same port. Customers
resume with their token and resend what was not acked, with the same client id.

At the end every acked line is stored once, in the order it was sent, and has exactly
one bot answer; nothing is owed any more. On SQLite and PostgreSQL; the figures are
printed (``-s``). ``INBOX_FAULT_RESTARTS`` / ``INBOX_FAULT_CUSTOMERS`` run it longer by
hand, ``INBOX_FAULT_SEED`` replays a run's fault points."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections import Counter
from pathlib import Path

import pytest

from inbox_tui.core import owed_replies
from inbox_tui.core.store import Store
from tests.channel.fault_support import (
    Customer,
    ServeProcess,
    bot_answers,
    fault_seed,
    free_port,
    loop_size,
    quiet_when_hung_up_on,
    stored_messages,
)
from tests.conftest import both_backends
from tests.support.fake_openai import Behaviour, FakeOpenAI

RESTARTS = loop_size("RESTARTS", 2)  # kill -9 and SIGTERM in turn, from a random first
CUSTOMERS = loop_size("CUSTOMERS", 4)
LEASE_SECONDS = 1.0
# Guards against a hang, not timed assertions: a healthy run takes a fraction of them.
RUN_DEADLINE = 60.0 + 20.0 * RESTARTS
ANSWER_DEADLINE = 60.0


def _environment(database_url: str, fake: FakeOpenAI) -> dict[str, str]:
    config_dir = Path(os.environ["INBOX_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(
        f"[bot]\nreply_lease_seconds = {LEASE_SECONDS}\n"
        # The customers here write fast on purpose: the flood limit is not under test.
        "[server]\nrate_limit_per_second = 1000\nrate_limit_burst = 1000\n",
        encoding="utf-8",
    )
    return {
        **os.environ,
        "INBOX_DB_URL": database_url,
        "OPENAI_BASE_URL": fake.base_url,
        "INBOX_MODEL": "test-model",
        "INBOX_AI_TIMEOUT": "20",
        "INBOX_SUMMARY_TIMEOUT": "3",
    }


def _answering(rng: random.Random) -> Behaviour:
    return Behaviour(kind="text", content="AN ANSWER", delay=rng.uniform(0.0, 0.4))


@both_backends
@pytest.mark.slow
async def test_acked_lines_are_stored_once_in_order_and_answered_once_across_random_stops(
    database_url: str, tmp_path: Path
) -> None:
    seed = fault_seed()
    rng = random.Random(seed)
    first, second = rng.sample([signal.SIGKILL, signal.SIGTERM], 2)
    stops = [first if n % 2 == 0 else second for n in range(RESTARTS)]
    loop = asyncio.get_running_loop()
    store = Store(database_url)
    port = free_port()
    log = tmp_path / "serve.log"
    exits: list[int] = []
    try:
        with FakeOpenAI(_answering(rng)) as fake:
            quiet_when_hung_up_on(fake)
            env = _environment(database_url, fake)
            node = await ServeProcess.start(env, port, log)
            faults_over = asyncio.Event()
            deadline = loop.time() + RUN_DEADLINE
            customers = [Customer(node.url + "/chat", f"c{n}", random.Random(rng.random())) for n in range(CUSTOMERS)]
            writing = [asyncio.create_task(c.run(faults_over, deadline, at_least=3)) for c in customers]
            try:
                for stop_signal in stops:
                    await asyncio.sleep(rng.uniform(0.3, 1.5))  # a random point under load
                    exits.append(await node.stop(stop_signal))
                    fake.default = _answering(rng)
                    node = await ServeProcess.start(env, port, log)
                faults_over.set()
                await asyncio.gather(*writing)
                acked = sum(len(c.acked) for c in customers)
                answer_deadline = loop.time() + ANSWER_DEADLINE
                while await bot_answers(store) < acked and loop.time() < answer_deadline:
                    await asyncio.sleep(0.1)
                await asyncio.sleep(LEASE_SECONDS * 2)  # room for a duplicate answer to show up
                stored = await stored_messages(store)
                owed_left = len(await owed_replies.pending(store))
            finally:
                for task in writing:
                    task.cancel()
                exits.append(await node.stop())
    finally:
        await store.close()

    retries: Counter[str] = sum((c.retries for c in customers), Counter())
    lost = duplicated = reordered = 0
    answers = Counter[str]()
    for customer in customers:
        assert customer.conversation_id is not None
        lines = [text for author, text in stored.get(customer.conversation_id, []) if author == "customer"]
        lost += len(set(customer.acked) - set(lines))
        duplicated += len(lines) - len(set(lines))
        reordered += int(lines != customer.acked and sorted(set(lines)) == sorted(customer.acked))
        answers[customer.name] = sum(1 for author, _ in stored.get(customer.conversation_id, []) if author == "bot")
    wrong_answer_counts = {
        c.name: (len(c.acked), answers[c.name]) for c in customers if answers[c.name] != len(c.acked)
    }
    print(
        f"\nstops {dict(Counter(s.name for s in stops))} ({database_url.split(':')[0]}, seed {seed}): "
        f"{CUSTOMERS} customers, "
        f"{acked} lines acked, {sum(answers.values())} bot answers; lost {lost}, duplicated {duplicated}, "
        f"reordered {reordered}, wrong answer counts {wrong_answer_counts}, owed left {owed_left}; "
        f"client retries {dict(retries)}; exit codes {exits}"
    )
    # kill -9 ends the process where it stands; SIGTERM is a clean stop (exit 0).
    assert exits == [-s if s == signal.SIGKILL else 0 for s in stops] + [0], f"see {log}"
    for customer in customers:
        lines = [text for author, text in stored[customer.conversation_id] if author == "customer"]  # type: ignore[index]
        assert lines == customer.acked  # stored once each, in the order sent
    assert wrong_answer_counts == {}  # exactly one answer per acked line
    assert owed_left == 0
