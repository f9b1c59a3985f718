"""Durable bot work: a real ``inbox-tui serve`` is killed (kill -9, or SIGTERM) after it
acked customers' messages and before the (slow, scripted) model answered them. After
the restart every acked message gets exactly one answer, a resend of one of them
included. On SQLite and PostgreSQL; the figures are printed (``-s``)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from inbox_tui.client.customer import CustomerClient
from inbox_tui.core import owed_replies
from inbox_tui.core.models import Author, Message
from inbox_tui.core.store import Store
from tests.channel.fault_support import ServeProcess
from tests.conftest import both_backends
from tests.support.fake_openai import Behaviour, FakeOpenAI

CUSTOMERS = 4
CYCLES = 2
LEASE_SECONDS = 1.0
ANSWER_WAIT_SECONDS = 30.0


def _environment(database_url: str, fake: FakeOpenAI) -> dict[str, str]:
    config_dir = Path(os.environ["INBOX_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(f"[bot]\nreply_lease_seconds = {LEASE_SECONDS}\n", encoding="utf-8")
    return {
        **os.environ,
        "INBOX_DB_URL": database_url,
        "OPENAI_BASE_URL": fake.base_url,
        "INBOX_MODEL": "test-model",
        "INBOX_AI_TIMEOUT": "20",
        "INBOX_SUMMARY_TIMEOUT": "3",
    }


async def _answers(store: Store) -> dict[int, int]:
    """Bot messages per conversation."""
    async with store.read() as session:
        rows = await session.execute(
            select(Message.conversation_id, func.count())
            .where(Message.author == Author.BOT)
            .group_by(Message.conversation_id)
        )
        return dict(rows.all())  # each row is a (conversation id, count) pair


async def _customer_messages(store: Store) -> int:
    async with store.read() as session:
        return int(
            await session.scalar(select(func.count()).select_from(Message).where(Message.author == Author.CUSTOMER))
            or 0
        )


@both_backends
@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
async def test_every_acked_message_is_answered_once_after_a_restart(
    database_url: str,
    stop_signal: signal.Signals,
    tmp_path: Path,
) -> None:
    store = Store(database_url)
    acked: list[tuple[CustomerClient, str, str]] = []  # (client, text, client id) per message
    clients: list[CustomerClient] = []
    try:
        with FakeOpenAI(Behaviour(kind="text", content="A SLOW ANSWER", delay=3.0)) as fake:
            env = _environment(database_url, fake)
            for cycle in range(CYCLES):
                fake.default = Behaviour(kind="text", content="A SLOW ANSWER", delay=3.0)
                node = await ServeProcess.start(env, 0, tmp_path / "serve.log")
                for n in range(CUSTOMERS):
                    if cycle == 0:
                        client = CustomerClient(node.url, customer={"id": f"c{n}", "locale": "en"})
                        clients.append(client)
                        await client.connect()
                    else:
                        client = clients[n]
                        client.url = node.url + "/chat"
                        await client.reconnect()
                    client_id = uuid.uuid4().hex
                    await client.send(f"question {cycle}-{n}", client_id=client_id)
                    acked.append((client, f"question {cycle}-{n}", client_id))
                # Acked, and the model is still thinking: the node dies.
                assert await _answers(store) == {}
                await node.stop(stop_signal)
                for client in clients:
                    await client.close()
            assert await _answers(store) == {}, "an answer came before the kill: the test proves nothing"
            assert len(await owed_replies.pending(store)) == CUSTOMERS * CYCLES

            fake.default = Behaviour(kind="text", content="AN ANSWER")
            node = await ServeProcess.start(env, 0, tmp_path / "serve.log")
            started = time.monotonic()
            try:
                # A customer who never heard back resends an acked message: stored once, answered once.
                client, text, client_id = acked[0]
                client.url = node.url + "/chat"
                await client.reconnect()
                await client.send(text, client_id=client_id)
                deadline = time.monotonic() + ANSWER_WAIT_SECONDS
                while sum((await _answers(store)).values()) < CUSTOMERS * CYCLES and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                answered_after = time.monotonic() - started
                await asyncio.sleep(LEASE_SECONDS * 2)  # room for a duplicate to show up
                answers = await _answers(store)
                customer_messages = await _customer_messages(store)
                await client.close()
            finally:
                assert await node.stop() == 0
        print(
            f"\nrestart after {stop_signal.name} ({database_url.split(':')[0]}): {CUSTOMERS * CYCLES} acked "
            f"unanswered messages, {sum(answers.values())} answered, all within {answered_after:.1f} s "
            f"of the restarted node listening; owed left: {len(await owed_replies.pending(store))}"
        )
        assert customer_messages == CUSTOMERS * CYCLES  # the resend was not stored again
        assert len(answers) == CUSTOMERS
        assert set(answers.values()) == {CYCLES}  # one answer per acked message, none twice
        assert await owed_replies.pending(store) == []
    finally:
        for client in clients:
            await client.close()
        await store.close()
