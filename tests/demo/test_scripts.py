"""The demo's customers do what the demo promises, against the real offline bot rules and
the shipped knowledge file: questions get an answer in the asker's language, requests
for a person escalate, idle customers ask what the bot cannot answer."""

from __future__ import annotations

import pytest

from inbox_tui.ai.interface import BotContext, TranscriptLine
from inbox_tui.ai.language import detect_language
from inbox_tui.ai.offline import OfflineAI, asks_for_human
from inbox_tui.demo.scripts import (
    ALL_SCRIPTS,
    HUMAN_SCRIPTS,
    IDLE_SCRIPTS,
    QUESTION_SCRIPTS,
    Intent,
    first_wave,
)
from inbox_tui.demo.services import demo_knowledge_file


@pytest.fixture(scope="module")
def bot() -> OfflineAI:
    return OfflineAI.from_file(str(demo_knowledge_file()))


def context(text: str) -> BotContext:
    return BotContext("", "", (), "FALLBACK", (TranscriptLine("customer", "c", text),), None)


def test_knowledge_file_ships_with_the_package(bot: OfflineAI) -> None:
    assert demo_knowledge_file().is_file()
    assert bot.knowledge is not None and len(bot.knowledge.passages) >= 25
    assert all(passage.text and passage.keywords for passage in bot.knowledge.passages)


def test_at_least_four_languages_and_every_kind() -> None:
    languages = {script.persona.language for script in ALL_SCRIPTS}
    assert {"en", "es", "de", "fr", "pt"} <= languages
    for scripts in (QUESTION_SCRIPTS, HUMAN_SCRIPTS, IDLE_SCRIPTS):
        assert len({s.persona.language for s in scripts}) >= 4
    assert len({s.persona.customer_id for s in ALL_SCRIPTS}) == len(ALL_SCRIPTS)
    assert {s.intent for s in first_wave()} == set(Intent)


@pytest.mark.parametrize("script", QUESTION_SCRIPTS, ids=lambda s: s.persona.name)
async def test_questions_are_answered_in_the_customers_language(bot: OfflineAI, script) -> None:
    for line in script.opening:
        assert not asks_for_human(line)
        reply = await bot.reply(context(line))
        assert reply.text and reply.text != "FALLBACK", line
        assert bot.knowledge is not None
        best = bot.knowledge.search(line)[0]
        assert reply.text == best.text
        assert detect_language(best.text) == script.persona.language, (line, best.title)


@pytest.mark.parametrize("script", HUMAN_SCRIPTS, ids=lambda s: s.persona.name)
async def test_requests_for_a_person_escalate(bot: OfflineAI, script) -> None:
    *before, request = script.opening
    for line in before:
        assert not (await bot.reply(context(line))).escalates, line
    assert (await bot.reply(context(request))).escalates, request
    assert script.to_teammate and script.farewell


@pytest.mark.parametrize("script", IDLE_SCRIPTS, ids=lambda s: s.persona.name)
async def test_idle_customers_ask_what_the_bot_cannot_answer(bot: OfflineAI, script) -> None:
    for line in script.opening:
        reply = await bot.reply(context(line))
        assert reply.text == "FALLBACK" and not reply.escalates, line
    assert script.to_teammate


@pytest.mark.parametrize("script", HUMAN_SCRIPTS + IDLE_SCRIPTS, ids=lambda s: s.persona.name)
async def test_farewells_get_a_polite_answer_not_the_fallback(bot: OfflineAI, script) -> None:
    reply = await bot.reply(context(script.farewell))
    assert reply.text and reply.text != "FALLBACK" and not reply.escalates
