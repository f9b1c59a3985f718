"""A PostgreSQL outage under customer load: a TCP proxy between the server and the
database is cut at random points mid-run (every open connection dropped, new ones
refused) and restored. While it is cut, customers' lines get ``unavailable`` (retry);
after, they are acked again. Nothing acked is lost, duplicated or reordered, and every
acked line gets exactly one bot answer. The figures are printed (``-s``);
``INBOX_FAULT_CUTS`` runs more cuts by hand, ``INBOX_FAULT_SEED`` replays a run."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from inbox_tui.core import owed_replies
from inbox_tui.core.store import Store
from tests.channel.db_proxy import DatabaseProxy
from tests.channel.fault_support import (
    Customer,
    bot_answers,
    fault_seed,
    loop_size,
    quiet_when_hung_up_on,
    stored_messages,
)
from tests.conftest import BACKENDS
from tests.support.fake_openai import Behaviour, FakeOpenAI

CUTS = loop_size("CUTS", 2)
CUSTOMERS = loop_size("CUSTOMERS", 4)
LEASE_SECONDS = 1.0
RUN_DEADLINE = 60.0 + 10.0 * CUTS  # a guard against a hang, not a timed assertion
ANSWER_DEADLINE = 60.0


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", [p for p in BACKENDS if p.id == "postgresql"], indirect=True)
async def test_a_database_cut_under_load_loses_nothing_acked(start_channel, database_url: str) -> None:
    seed = fault_seed()
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    proxy = await DatabaseProxy.in_front_of(database_url)
    observer = Store(database_url)  # reads past the proxy: the truth, not the server's view
    cut_for: list[float] = []
    restored_at: list[float] = []
    try:
        with FakeOpenAI(Behaviour(kind="text", content="AN ANSWER", delay=0.05)) as fake:
            quiet_when_hung_up_on(fake)
            channel = await start_channel(
                database_url=proxy.url_for(database_url),
                base_url=fake.base_url,
                bot={"reply_lease_seconds": LEASE_SECONDS},
                rate_limit_per_second=1000,
                rate_limit_burst=1000,
            )
            faults_over = asyncio.Event()
            deadline = loop.time() + RUN_DEADLINE
            customers = [
                Customer(channel.url + "/chat", f"c{n}", random.Random(rng.random())) for n in range(CUSTOMERS)
            ]
            writing = [asyncio.create_task(c.run(faults_over, deadline, at_least=3)) for c in customers]
            try:
                for _ in range(CUTS):
                    await asyncio.sleep(rng.uniform(0.3, 1.0))  # a random point under load
                    await proxy.cut()
                    cut_for.append(rng.uniform(0.5, 1.5))
                    await asyncio.sleep(cut_for[-1])
                    await proxy.restore()
                    restored_at.append(loop.time())
                faults_over.set()
                await asyncio.gather(*writing)
            finally:
                for task in writing:
                    task.cancel()
            acked = sum(len(c.acked) for c in customers)
            answer_deadline = loop.time() + ANSWER_DEADLINE
            while await bot_answers(observer) < acked and loop.time() < answer_deadline:
                await asyncio.sleep(0.1)
            await asyncio.sleep(LEASE_SECONDS * 2)  # room for a duplicate answer to show up
            stored = await stored_messages(observer)
            owed_left = len(await owed_replies.pending(observer))
    finally:
        await proxy.cut()
        await observer.close()

    retries: Counter[str] = sum((c.retries for c in customers), Counter())
    acks = sorted(at for c in customers for at in c.acked_at)
    # A figure, not an assertion: how soon after the database came back a line was acked.
    recovered_in = [min((at for at in acks if at > back), default=float("nan")) - back for back in restored_at]
    wrong: dict[str, tuple[list[str], int]] = {}
    for customer in customers:
        assert customer.conversation_id is not None
        rows = stored.get(customer.conversation_id, [])
        lines = [text for author, text in rows if author == "customer"]
        answers = sum(1 for author, _ in rows if author == "bot")
        if lines != customer.acked or answers != len(customer.acked):
            wrong[customer.name] = (lines, answers)
    print(
        f"\n{CUTS} database cuts ({', '.join(f'{s:.1f} s' for s in cut_for)}; seed {seed}): {CUSTOMERS} customers, "
        f"{acked} lines acked, {sum(1 for rows in stored.values() for a, _ in rows if a == 'bot')} bot answers; "
        f"customers with lost, duplicated, reordered or wrongly answered lines: {len(wrong)}; owed left {owed_left}; "
        f"client retries {dict(retries)}; first ack after the database returned: "
        f"{', '.join(f'{s:.2f} s' for s in recovered_in)}"
    )
    assert retries["unavailable"] > 0, "no line met the outage: the test proved nothing"
    assert wrong == {}  # each acked line stored once, in order, with one answer
    assert owed_left == 0
