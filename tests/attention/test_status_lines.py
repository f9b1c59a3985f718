"""The customer's status lines: built in for six languages, the team's own from
config.toml, the model's translation for any other language (through the real ``openai``
SDK against a loopback server), and English when there is no model or it fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from inbox_tui.ai.offline import OfflineAI
from inbox_tui.ai.openai_backend import OpenAIBackend
from inbox_tui.core.claiming import claim_ticket
from inbox_tui.core.customer_status import is_status_line, status_text
from inbox_tui.core.escalation import EscalationSettings, escalate, finish_escalation
from inbox_tui.core.models import Author, Message, TicketSource
from inbox_tui.core.status_lines import (
    BUILT_IN_LINES,
    StatusKind,
    StatusLines,
    configure_status_lines,
    status_lines,
)
from inbox_tui.core.store import Store
from inbox_tui.core.tickets import send_agent_reply
from inbox_tui.runtime import open_runtime
from inbox_tui.settings import SettingsError, load_settings
from tests.conftest import both_backends
from tests.core.helpers import add_teammate, new_conversation
from tests.support.fake_openai import Behaviour, FakeOpenAI

DUTCH_QUEUED = "U staat in de wachtrij; de eerstvolgende collega antwoordt u hier."
DUTCH_JOINED = "{name} neemt nu deel aan het gesprek."
DUTCH_BACK_AT = "Ons team is er nu niet en is terug om {when}; uw bericht blijft bewaard."
DUTCH_HANDOFF = "Ik verbind u met een collega."


@pytest.fixture
def fake_model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        fake.server.block_on_close = False  # a handler still sleeping must not hold up shutdown
        yield fake


def model_at(fake: FakeOpenAI) -> OpenAIBackend:
    return OpenAIBackend(api_key="test-key", base_url=fake.base_url, model="test-model", timeout=10)


async def system_lines(store: Store, conversation_id: int) -> list[str]:
    async with store.read() as session:
        rows = await session.scalars(
            select(Message.text)
            .where(Message.conversation_id == conversation_id, Message.author == Author.SYSTEM)
            .order_by(Message.id)
        )
        return list(rows)


async def unassigned_ticket(store: Store, locale: str, settings: EscalationSettings | None = None) -> tuple[int, int]:
    """A ticket the bot escalated while its one teammate is at capacity: it waits."""
    started = await new_conversation(store, "cust-" + locale, locale=locale, first_message="hello there")
    result = await escalate(
        store, started.conversation.id, source=TicketSource.ESCALATION, reason="asked", settings=settings
    )
    assert result.assignee is None
    return started.conversation.id, result.ticket_id


@pytest.mark.parametrize("language", ["en", "es", "de", "fr", "pt", "it"])
def test_each_of_six_languages_has_its_own_line_of_every_kind(language: str) -> None:
    lines = StatusLines()
    for kind in BUILT_IN_LINES:
        text = lines.text(kind, language, name="Ana Silva", when="09:00 UTC")
        assert text == BUILT_IN_LINES[kind][language].replace("{name}", "Ana Silva").replace("{when}", "09:00 UTC")
        assert "{" not in text
        if language != "en":
            assert text != lines.text(kind, "en", name="Ana Silva", when="09:00 UTC")
    # A regional tag takes its language's line.
    assert lines.text(StatusKind.QUEUED, language.upper() + "_XX") == BUILT_IN_LINES[StatusKind.QUEUED][language]


async def test_the_teams_lines_from_config_toml_are_told_and_recognised(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'database_url = "{database_url}"\n'
        "[status_lines.queued]\n"
        'en = "Thanks for waiting: you are next in line for a person."\n'
        'nl = "' + DUTCH_QUEUED + '"\n'
        "[status_lines.joined]\n"
        'PT = "{name} chegou para te ajudar."\n',
        encoding="utf-8",
    )
    runtime = await open_runtime(load_settings(config, environ={}))
    try:
        store = runtime.store
        ana = await add_teammate(store, "ana", capacity=0)
        tickets = {
            locale: await unassigned_ticket(store, locale, runtime.escalation) for locale in ("en-GB", "nl", "pt-BR")
        }
        # The offline AI has no model: a language without a handoff text is finished by the worker.
        for _, ticket_id in tickets.values():
            await finish_escalation(store, runtime.ai, ticket_id, runtime.escalation)

        english, dutch, brazil = [await system_lines(store, c) for c, _ in tickets.values()]
        assert english[-1] == "Thanks for waiting: you are next in line for a person."
        assert dutch[-1] == DUTCH_QUEUED
        assert brazil[-1] == BUILT_IN_LINES[StatusKind.QUEUED]["pt"]  # Portuguese keeps its built-in queue line
        await send_agent_reply(store, tickets["pt-BR"][1], ana.id, "Oi!")
        assert (await system_lines(store, tickets["pt-BR"][0]))[-1] == "Ana chegou para te ajudar."
        # Languages nobody configured keep their built-in lines.
        assert status_text(StatusKind.JOINED, "es", name="Ana") == "Ana se ha unido a la conversación."
        # Transcripts and tests still tell the status lines from the rest.
        assert is_status_line("Ben chegou para te ajudar.")
        assert is_status_line("Thanks for waiting: you are next in line for a person.")
        assert not is_status_line("Oi!")
    finally:
        await runtime.close()


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ('[status_lines.joined]\nen = "{teammate} is here."\n', "status_lines.joined: en: unknown placeholder"),
        ('[status_lines.queued]\nen = "Hi {name}"\n', "unknown placeholder {name} (usable: none)"),
        ('[status_lines.back_at]\nde = ""\n', "must not be empty"),
        ('[status_lines.queued]\n"pt-BR" = "Na fila."\n', "a language code alone"),
        ('[status_lines]\nwaiting = { en = "x" }\n', "status_lines.waiting: unknown setting"),
    ],
)
def test_a_broken_line_in_config_toml_is_named(tmp_path: Path, table: str, error: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(table, encoding="utf-8")
    with pytest.raises(SettingsError, match=error.replace("{", r"\{").replace("(", r"\(").replace(")", r"\)")):
        load_settings(config, environ={})


@both_backends
async def test_a_seventh_language_is_translated_by_the_model_once(store: Store, fake_model: FakeOpenAI) -> None:
    model = model_at(fake_model)
    configure_status_lines(StatusLines(translator=model, timeout=10))
    ana = await add_teammate(store, "ana", capacity=0)
    # The lines first (queued, joined, back at: once for Dutch), then the handoff.
    fake_model.push(
        Behaviour(content=DUTCH_QUEUED),
        Behaviour(content=DUTCH_JOINED),
        Behaviour(content=DUTCH_BACK_AT),
        Behaviour(content=DUTCH_HANDOFF),
    )
    conversation_id, ticket_id = await unassigned_ticket(store, "nl-NL")
    # The claim wrote no line: the model is never asked while the conversation is locked.
    assert await system_lines(store, conversation_id) == []
    await finish_escalation(store, model, ticket_id)
    assert await system_lines(store, conversation_id) == [DUTCH_HANDOFF, DUTCH_QUEUED]

    # The Dutch lines are known now: a claim announces the teammate without asking again.
    await claim_ticket(store, ticket_id, ana.id)
    assert (await system_lines(store, conversation_id))[-1] == "Ana neemt nu deel aan het gesprek."
    translations = [request for request in fake_model.requests if "response_format" not in request]
    assert len(translations) == 4  # three lines and the handoff; the summary is asked for apart
    asked = [request["messages"] for request in translations[:3]]
    for messages, kind in zip(asked, (StatusKind.QUEUED, StatusKind.JOINED, StatusKind.BACK_AT), strict=True):
        assert "'nl'" in messages[0]["content"]
        assert messages[-1]["content"] == BUILT_IN_LINES[kind]["en"]
    assert is_status_line("Ben neemt nu deel aan het gesprek.")


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(Behaviour(kind="status", status=500), id="http-500"),
        pytest.param(Behaviour(kind="garbage"), id="not-json"),
        pytest.param(Behaviour(content="ok", delay=3.0), id="timeout"),
        pytest.param(Behaviour(content="U bent in de wachtrij, {name}."), id="wrong-placeholder"),
    ],
)
async def test_a_failing_model_leaves_the_english_line(
    store: Store, fake_model: FakeOpenAI, failure: Behaviour
) -> None:
    model = OpenAIBackend(api_key="test-key", base_url=fake_model.base_url, model="test-model", timeout=0.5)
    configure_status_lines(StatusLines(translator=model, timeout=0.5))
    await add_teammate(store, "ana", capacity=0)
    fake_model.default = failure
    conversation_id, ticket_id = await unassigned_ticket(store, "nl")
    await finish_escalation(store, model, ticket_id, EscalationSettings(summary_timeout=0.5))
    lines = await system_lines(store, conversation_id)
    assert lines[-1] == BUILT_IN_LINES[StatusKind.QUEUED]["en"]
    assert not status_lines().needs_model("nl")  # not asked again at once: the customer is not kept waiting


async def test_without_a_model_a_seventh_language_gets_english_at_once(store: Store) -> None:
    configure_status_lines(StatusLines(translator=OfflineAI()))
    await add_teammate(store, "ana", capacity=0)
    conversation_id, ticket_id = await unassigned_ticket(store, "ja")
    await finish_escalation(store, OfflineAI(), ticket_id)
    assert await system_lines(store, conversation_id) == [
        "Let me connect you with a teammate.",
        BUILT_IN_LINES[StatusKind.QUEUED]["en"],
    ]


async def test_a_first_reply_asks_the_model_before_it_writes(store: Store, fake_model: FakeOpenAI) -> None:
    # The ticket was opened while the process had no model: the customer heard English.
    ana = await add_teammate(store, "ana", capacity=0)
    conversation_id, ticket_id = await unassigned_ticket(store, "nl")
    await finish_escalation(store, OfflineAI(), ticket_id)
    assert (await system_lines(store, conversation_id))[-1] == BUILT_IN_LINES[StatusKind.QUEUED]["en"]
    # Now a model is configured: Ana's first reply is preceded by the Dutch joined line.
    configure_status_lines(StatusLines(translator=model_at(fake_model), timeout=10))
    fake_model.push(Behaviour(content=DUTCH_QUEUED), Behaviour(content=DUTCH_JOINED), Behaviour(content=DUTCH_BACK_AT))
    await send_agent_reply(store, ticket_id, ana.id, "Hallo, ik help u verder.")
    assert (await system_lines(store, conversation_id))[-1] == "Ana neemt nu deel aan het gesprek."
    assert len(fake_model.requests) == 3
