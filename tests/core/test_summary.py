"""The ticket summary through the real ``openai`` SDK against a loopback OpenAI-compatible
server, its fallback when the model is slow, failing or talking nonsense, and the lease
that picks up a summary whose worker died."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from inbox_tui.ai.language import detect_language
from inbox_tui.ai.offline import OfflineAI, sentences
from inbox_tui.ai.openai_backend import OpenAIBackend
from inbox_tui.core import conversations, escalation, views
from inbox_tui.core.events import EventKind
from inbox_tui.core.models import SummaryState, Ticket, TicketSource
from inbox_tui.core.store import Store
from inbox_tui.runtime import Runtime, open_runtime
from inbox_tui.settings import DEFAULT_HANDOFF_TRANSLATIONS, load_settings
from tests.conftest import FixedClock, both_backends
from tests.core.helpers import add_teammate, events_after, last_event_id, new_conversation, timeline_codes
from tests.support.fake_openai import Behaviour, FakeOpenAI

SPANISH_CHAT = [
    "Hola, pedí unas zapatillas hace dos semanas y todavía no han llegado.",
    "El número de pedido es 4471 y ya pagué el envío urgente.",
    "Quiero saber dónde está el paquete o que me devuelvan el dinero del envío.",
]
SPANISH_SUMMARY = {
    "subject": "Pedido 4471 sin entregar tras dos semanas",
    "summary": (
        "La clienta pidió unas zapatillas hace dos semanas y el pedido 4471 no ha llegado. "
        "Pagó el envío urgente y pide saber dónde está el paquete o el reembolso del envío."
    ),
    "language": "es",
}
SUMMARY_TIMEOUT = 1.0
# Loose on purpose: it proves the wait is bounded by the timeout, not how fast the machine is.
MARGIN = 2.0


@pytest.fixture
def fake_model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        # A handler still sleeping in a "slow" answer must not hold up the server's shutdown.
        fake.server.block_on_close = False
        yield fake


async def _spanish_ticket(store: Store, settings: escalation.EscalationSettings) -> int:
    ana = await add_teammate(store, "ana")
    started = await new_conversation(store, "cliente-1", name="Lucía")
    for line in SPANISH_CHAT:
        # The channel detects the language outside the transaction and hands it in.
        await conversations.record_customer_message(
            store, started.conversation.id, line, language=detect_language(line)
        )
    result = await escalation.escalate(
        store, started.conversation.id, source=TicketSource.TAKEOVER, actor_id=ana.id, settings=settings
    )
    return result.ticket_id


async def _ticket(store: Store, ticket_id: int) -> Ticket:
    async with store.read() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


async def _runtime_against(fake: FakeOpenAI, database_url: str) -> Runtime:
    """The product's own wiring: settings from the environment, as a user configures it."""
    settings = load_settings(
        environ={
            "INBOX_DB_URL": database_url,
            "OPENAI_BASE_URL": fake.base_url,
            "OPENAI_API_KEY": "test-key",
            "INBOX_MODEL": "test-model",
            "INBOX_AI_TIMEOUT": "30",
            "INBOX_SUMMARY_TIMEOUT": str(SUMMARY_TIMEOUT),
        }
    )
    runtime = await open_runtime(settings)
    assert isinstance(runtime.ai, OpenAIBackend)
    return runtime


@both_backends
async def test_a_spanish_summary_stays_spanish(store: Store, fake_model: FakeOpenAI) -> None:
    ai = OpenAIBackend(api_key="test-key", base_url=fake_model.base_url, model="test-model", timeout=10)
    # No configured Spanish handoff: the model translates it (first call), then summarizes.
    settings = escalation.EscalationSettings(handoff=escalation.HandoffConfig("Let me connect you with a teammate."))
    ticket_id = await _spanish_ticket(store, settings)
    assert (await _ticket(store, ticket_id)).summary_state == SummaryState.PENDING
    fake_model.push(
        Behaviour(kind="text", content="Te pongo en contacto con una persona del equipo."),
        Behaviour(kind="json", data=SPANISH_SUMMARY),
    )
    before = await last_event_id(store)

    await escalation.finish_escalation(store, ai, ticket_id, settings)

    ticket = await _ticket(store, ticket_id)
    assert ticket.summary_state == SummaryState.READY
    assert ticket.subject == SPANISH_SUMMARY["subject"]
    assert ticket.summary == SPANISH_SUMMARY["summary"]
    assert ticket.language == "es"
    assert detect_language(ticket.summary) == "es"
    assert 2 <= len(sentences(ticket.summary)) <= 3
    assert ticket.summary_lease_until is None
    assert "summary_ready" in await timeline_codes(store, ticket_id)
    kinds = [e.kind for e in await events_after(store, before)]
    # The translated handoff, the customer's status line, then the summary.
    assert kinds == [EventKind.MESSAGE, EventKind.MESSAGE, EventKind.SUMMARY_READY]

    # What the SDK sent: structured output, the Spanish transcript, the language asked for.
    translate_request, summary_request = fake_model.requests[-2:]
    assert "'es'" in translate_request["messages"][0]["content"]
    assert summary_request["response_format"]["type"] == "json_schema"
    assert SPANISH_CHAT[1] in summary_request["messages"][1]["content"]
    assert "(es)" in summary_request["messages"][0]["content"]
    async with store.read() as session:
        handoff = [m for m in await conversations.transcript(session, ticket.conversation_id) if m.author == "system"]
    assert [m.text for m in handoff][:1] == ["Te pongo en contacto con una persona del equipo."]
    assert [m.text for m in handoff][1:] == ["Ana se ha unido a la conversación."]  # the status line after it


FAILURES = {
    "timeout": Behaviour(kind="json", data=SPANISH_SUMMARY, delay=SUMMARY_TIMEOUT + 3),
    "http_500": Behaviour(kind="status", status=500, headers={"x-should-retry": "false"}),
    "garbage_body": Behaviour(kind="garbage"),
    "not_the_json_asked_for": Behaviour(kind="text", content="Claro, aquí tienes un resumen: ..."),
    "json_missing_fields": Behaviour(kind="json", data={"subject": "Pedido"}),
}


@both_backends
@pytest.mark.parametrize("failure", list(FAILURES))
async def test_a_failing_model_yields_the_fallback_summary_in_time(
    database_url: str,
    fake_model: FakeOpenAI,
    failure: str,
) -> None:
    runtime = await _runtime_against(fake_model, database_url)
    try:
        settings = escalation.EscalationSettings(
            handoff=escalation.HandoffConfig(translations=DEFAULT_HANDOFF_TRANSLATIONS),
            summary_timeout=runtime.escalation.summary_timeout,
        )
        assert settings.summary_timeout == SUMMARY_TIMEOUT
        ticket_id = await _spanish_ticket(runtime.store, settings)
        fake_model.push(FAILURES[failure])

        started = time.monotonic()
        state = await escalation.summarize_ticket(
            runtime.store, runtime.ai, ticket_id, timeout=settings.summary_timeout
        )
        elapsed = time.monotonic() - started

        assert state == SummaryState.FALLBACK
        assert elapsed < SUMMARY_TIMEOUT + MARGIN, f"{failure}: waited {elapsed:.2f}s"
        assert len(fake_model.requests) == 1  # asked once: nothing here invites a retry
        ticket = await _ticket(runtime.store, ticket_id)
        assert ticket.summary_state == SummaryState.FALLBACK
        assert ticket.subject and ticket.summary
        # The local fallback is taken from the customer's own words: still Spanish.
        assert ticket.language == "es"
        assert any(sentence in ticket.summary for sentence in SPANISH_CHAT)
        assert "summary_fallback" in await timeline_codes(runtime.store, ticket_id)
        async with runtime.store.read() as session:
            assert [t.id for t in await views.tickets(session, views.View.ALL_OPEN)] == [ticket_id]
    finally:
        await runtime.close()


@contextlib.asynccontextmanager
async def _escalated_on_a_fixed_clock(
    database_url: str,
) -> AsyncIterator[tuple[FixedClock, Store, escalation.EscalationSettings, int]]:
    """A store on a clock the test moves, holding one escalated Spanish chat's ticket."""
    clock = FixedClock()
    store = Store(database_url, clock=clock)
    try:
        settings = escalation.EscalationSettings(
            handoff=escalation.HandoffConfig(translations=DEFAULT_HANDOFF_TRANSLATIONS)
        )
        yield clock, store, settings, await _spanish_ticket(store, settings)
    finally:
        await store.close()


@both_backends
async def test_a_pending_summary_of_a_dead_worker_is_picked_up(database_url: str) -> None:
    async with _escalated_on_a_fixed_clock(database_url) as (clock, store, settings, ticket_id):
        ai = OfflineAI()
        # The worker that escalated "died": nothing summarized. Its lease is still live.
        clock.advance(seconds=settings.summary_lease.total_seconds() - 1)
        assert await escalation.resume_stale_summaries(store, ai, settings) == []
        assert (await _ticket(store, ticket_id)).summary_state == SummaryState.PENDING

        clock.advance(seconds=2)  # now the lease has expired
        assert await escalation.resume_stale_summaries(store, ai, settings) == [ticket_id]
        ticket = await _ticket(store, ticket_id)
        assert ticket.summary_state == SummaryState.FALLBACK  # offline: extractive summary
        assert ticket.language == "es" and ticket.summary
        assert ticket.summary_lease_until is None
        # Nothing is left to pick up, and a second resumer finds nothing to do.
        assert await escalation.resume_stale_summaries(store, ai, settings) == []
        assert await escalation.summarize_ticket(store, ai, ticket_id, timeout=1) is None


@both_backends
async def test_a_claimed_lease_is_not_stolen(database_url: str) -> None:
    async with _escalated_on_a_fixed_clock(database_url) as (clock, store, settings, ticket_id):
        clock.advance(seconds=settings.summary_lease.total_seconds() + 1)
        # A second worker claims the stale summary: its lease starts now.
        assert await escalation.claim_stale_summaries(store, settings.summary_lease) == [ticket_id]
        clock.advance(seconds=10)
        assert await escalation.claim_stale_summaries(store, settings.summary_lease) == []
        clock.advance(seconds=settings.summary_lease.total_seconds())
        assert await escalation.claim_stale_summaries(store, settings.summary_lease) == [ticket_id]


@both_backends
async def test_a_summary_slower_than_its_lease_is_asked_for_once(store: Store, fake_model: FakeOpenAI) -> None:
    """The worker renews its lease while the model thinks, so a sweeper running all the
    while never takes the summary over: one escalation, one summary request."""
    lease = timedelta(seconds=0.6)
    settings = escalation.EscalationSettings(
        handoff=escalation.HandoffConfig(translations=DEFAULT_HANDOFF_TRANSLATIONS),
        summary_lease=lease,
        summary_timeout=10.0,
    )
    ai = OpenAIBackend(api_key="test-key", base_url=fake_model.base_url, model="test-model", timeout=10)
    ticket_id = await _spanish_ticket(store, settings)
    fake_model.default = Behaviour(kind="json", data=SPANISH_SUMMARY, delay=2.0)  # over three leases
    swept: list[int] = []

    async def sweeper() -> None:
        while True:
            await asyncio.sleep(0.1)
            swept.extend(await escalation.resume_stale_summaries(store, ai, settings))

    sweeping = asyncio.create_task(sweeper())
    try:
        await escalation.finish_escalation(store, ai, ticket_id, settings)
    finally:
        sweeping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeping
        await ai.client.close()
    assert swept == []
    assert len([r for r in fake_model.requests if "response_format" in r]) == 1
    assert (await _ticket(store, ticket_id)).summary_state == SummaryState.READY
