"""Only whole, bounded answers, retried within the budget, from an honest history: the
bot against a scripted OpenAI-compatible server through the real openai SDK."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest

from inbox_tui.ai.interface import BotContext, TranscriptLine
from inbox_tui.ai.openai_backend import OpenAIBackend
from inbox_tui.channel.bot import trim_history
from inbox_tui.client.customer import CustomerClient
from inbox_tui.core import owed_replies
from inbox_tui.core.models import Ticket
from inbox_tui.wire.customer import ModeChange
from tests.support.fake_openai import Behaviour, FakeOpenAI

FALLBACK_LOGGER = "inbox_tui.channel.bot"


@pytest.fixture
def fake_model():  # type: ignore[no-untyped-def]
    with FakeOpenAI() as fake:
        fake.server.block_on_close = False
        yield fake


async def _one_answer(channel, text: str = "Something about the weather") -> dict:  # type: ignore[no-untyped-def]
    async with CustomerClient(channel.url, customer={"id": "c1", "locale": "en"}) as chat:
        await chat.send(text)
        return await chat.wait_for(lambda f: f.get("author") == "bot" or f["type"] == "mode", timeout=15)


def _fallback_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == FALLBACK_LOGGER and "the model did not answer" in r.getMessage()
    ]


@pytest.mark.parametrize("finish", ["length", "content_filter"])
async def test_a_cut_answer_is_never_shown(start_channel, fake_model, caplog, finish: str) -> None:
    fake_model.push(Behaviour(kind="text", content="Orders ship within 2 busi", finish_reason=finish))
    channel = await start_channel(base_url=fake_model.base_url)
    with caplog.at_level(logging.WARNING):
        answer = await _one_answer(channel)
    assert answer["text"] == channel.runtime.settings.bot.fallback_message
    assert _fallback_lines(caplog) == [
        f"the model did not answer (AIError: the answer was cut off (finish_reason={finish})); "
        "the offline bot answers instead"
    ]
    # max_tokens is sized from the reply limit.
    limit = channel.runtime.settings.ai.max_reply_chars
    assert fake_model.requests[0]["max_tokens"] == limit // 3


async def test_an_answer_over_the_limit_falls_back(start_channel, fake_model, caplog) -> None:
    fake_model.push(Behaviour(kind="text", content="x" * 5000))
    channel = await start_channel(base_url=fake_model.base_url)
    with caplog.at_level(logging.WARNING):
        answer = await _one_answer(channel)
    assert answer["text"] == channel.runtime.settings.bot.fallback_message
    assert _fallback_lines(caplog) == [
        "the model did not answer (AIError: the answer has 5000 characters, over the limit of 4000); "
        "the offline bot answers instead"
    ]


async def test_a_timeout_is_logged_with_how_long_it_waited(start_channel, fake_model, caplog) -> None:
    fake_model.push(Behaviour(kind="text", content="too late", delay=3.0))
    channel = await start_channel(base_url=fake_model.base_url, ai_timeout=1.0)
    with caplog.at_level(logging.WARNING):
        answer = await _one_answer(channel)
    assert answer["text"] == channel.runtime.settings.bot.fallback_message
    assert _fallback_lines(caplog) == [
        "the model did not answer (timed out after 1 s); the offline bot answers instead"
    ]


@pytest.mark.parametrize(
    "failure",
    [
        Behaviour(kind="status", status=429, headers={"Retry-After": "1"}),
        Behaviour(kind="status", status=503, headers={"x-should-retry": "true", "Retry-After": "1"}),
    ],
    ids=["429-retry-after", "503-x-should-retry"],
)
async def test_rate_limits_are_retried_within_the_budget(start_channel, fake_model, caplog, failure) -> None:
    fake_model.push(failure, Behaviour(kind="text", content="Orders arrive in 3 to 5 days."))
    channel = await start_channel(base_url=fake_model.base_url, ai_timeout=10.0)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        answer = await _one_answer(channel)
    waited = time.monotonic() - started
    assert answer["text"] == "Orders arrive in 3 to 5 days."
    assert len(fake_model.requests) == 2
    assert waited >= 0.9  # Retry-After was honoured
    assert _fallback_lines(caplog) == []


async def test_a_retry_after_past_the_budget_falls_back_in_time(start_channel, fake_model, caplog) -> None:
    fake_model.push(Behaviour(kind="status", status=429, headers={"Retry-After": "30"}))
    channel = await start_channel(base_url=fake_model.base_url, ai_timeout=1.5)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        answer = await _one_answer(channel)
    assert time.monotonic() - started < 10
    assert answer["text"] == channel.runtime.settings.bot.fallback_message
    assert _fallback_lines(caplog) == [
        "the model did not answer (timed out after 1.5 s); the offline bot answers instead"
    ]


@pytest.mark.parametrize(
    "arguments", [{"reason": "wants a refund"}, '{"reason": "wants a refund"}'], ids=["object", "string"]
)
async def test_a_tool_call_escalates_whatever_form_its_arguments_take(start_channel, fake_model, arguments) -> None:
    fake_model.push(Behaviour(kind="tool_call", raw_arguments=arguments))
    channel = await start_channel(base_url=fake_model.base_url)
    frame = await _one_answer(channel, "I want my money back")
    assert frame == ModeChange(mode="human")
    await channel.server.wait_idle()
    async with channel.store.read() as session:
        from sqlalchemy import select

        reasons = list(await session.scalars(select(Ticket.reason)))
    assert reasons == ["wants a refund"]
    assert await owed_replies.pending(channel.store) == []


async def test_the_model_reads_teammates_as_teammates() -> None:
    with FakeOpenAI(Behaviour(kind="text", content="Happy to help.")) as fake:
        backend = OpenAIBackend(api_key=None, base_url=fake.base_url, model="m", timeout=5)
        context = BotContext(
            instructions="Be brief.",
            knowledge="",
            escalation_triggers=["a human is asked for"],
            fallback_message="Sorry.",
            language="en",
            transcript=[
                TranscriptLine("customer", "Carla", "Where is my order?"),
                TranscriptLine("bot", "Assistant", "Let me check."),
                TranscriptLine("agent", "Ana", "It ships tomorrow."),
                TranscriptLine("system", "", "A teammate joined."),
                TranscriptLine("customer", "Carla", "Thanks!"),
            ],
        )
        reply = await backend.reply(context)
        await backend.client.close()
    assert reply.text == "Happy to help."
    turns = fake.requests[0]["messages"][1:]
    assert turns == [
        {"role": "user", "content": "Where is my order?"},
        {"role": "assistant", "content": "Let me check."},
        {"role": "system", "content": "Message from the human teammate Ana to the customer: It ships tomorrow."},
        {"role": "system", "content": "Message the help desk sent to the customer: A teammate joined."},
        {"role": "user", "content": "Thanks!"},
    ]
    assert json.dumps(turns).count("assistant") == 1


def test_history_is_trimmed_by_size_and_starts_on_a_customer_turn() -> None:
    lines = []
    for n in range(30):
        lines += [
            TranscriptLine("customer", "C", f"question {n} " + "q" * 300),
            TranscriptLine("bot", "Assistant", f"answer {n} " + "a" * 300),
            TranscriptLine("agent", "Ana", f"note {n} " + "n" * 300),
        ]
    lines.append(TranscriptLine("customer", "C", "last question"))
    trimmed = trim_history(lines, max_chars=2000)
    assert sum(len(line.text) for line in trimmed) <= 2000
    assert trimmed[0].author == "customer"
    assert trimmed[-1].text == "last question"
    assert len(trimmed) < len(lines)
    # One huge message still leaves the newest turn.
    assert trim_history([TranscriptLine("customer", "C", "x" * 50_000)], max_chars=2000)[0].text == "x" * 50_000


async def test_owed_answers_past_their_age_go_to_a_teammate(start_channel, fake_model, database_url) -> None:
    """A message acked while no node could answer it, found after the configured age:
    not answered late but escalated, so a human sees it."""
    from inbox_tui.core.conversations import record_customer_message, start_conversation
    from inbox_tui.core.store import Store

    store = Store(database_url)
    try:
        started = await start_conversation(store, channel="web", customer_id="c1", name="Carla", locale="en")
        await record_customer_message(store, started.conversation.id, "Hello? Anyone?")
    finally:
        await store.close()
    await asyncio.sleep(0.3)
    channel = await start_channel(
        base_url=fake_model.base_url, bot={"reply_lease_seconds": 0.2, "owed_reply_max_age_seconds": 0.1}
    )
    deadline = time.monotonic() + 10
    while await owed_replies.pending(channel.store) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await channel.server.wait_idle()
    async with channel.store.read() as session:
        from sqlalchemy import select

        reasons = list(await session.scalars(select(Ticket.reason)))
    assert reasons == ["the assistant could not answer in time"]
    assert fake_model.requests == [] or all("response_format" in r for r in fake_model.requests)
