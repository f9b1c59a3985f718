"""The customer hears only the truth about who holds their conversation."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from inbox_tui.ai.offline import OfflineAI
from inbox_tui.core import team
from inbox_tui.core.customer_status import back_at_label, status_text
from inbox_tui.core.escalation import escalate, finish_escalation
from inbox_tui.core.models import Author, Contact, Message, TicketSource
from inbox_tui.core.shifts import WeeklyShift
from inbox_tui.core.status_lines import BUILT_IN_LINES, StatusKind
from inbox_tui.core.store import Store
from inbox_tui.core.tickets import reassign, send_agent_reply
from inbox_tui.settings import AssignmentSettings
from tests.conftest import both_backends
from tests.core.helpers import add_teammate, new_conversation

LANGUAGES = ("en", "es", "de", "fr", "pt", "it")


async def system_lines(store: Store, conversation_id: int) -> list[str]:
    async with store.read() as session:
        rows = await session.scalars(
            select(Message.text)
            .where(Message.conversation_id == conversation_id, Message.author == Author.SYSTEM)
            .order_by(Message.id)
        )
        return list(rows)


async def all_lines(store: Store, conversation_id: int) -> list[tuple[str, str]]:
    async with store.read() as session:
        rows = await session.execute(
            select(Message.author, Message.text).where(Message.conversation_id == conversation_id).order_by(Message.id)
        )
        return [(a, t) for a, t in rows]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_status_line_is_built_in_for_six_languages(language: str) -> None:
    for kind, lines in BUILT_IN_LINES.items():
        assert language in lines, (kind, language)
    joined = status_text(StatusKind.JOINED, language, name="Ana Silva")
    assert "Ana Silva" in joined and "{name}" not in joined
    back = status_text(StatusKind.BACK_AT, language + "-XX", when="09:00 UTC")
    assert "09:00 UTC" in back
    if language != "en":
        assert status_text(StatusKind.QUEUED, language) != status_text(StatusKind.QUEUED, "en")


def test_unknown_language_falls_back_to_english_and_names_are_literal() -> None:
    assert status_text(StatusKind.QUEUED, "ja") == BUILT_IN_LINES[StatusKind.QUEUED]["en"]
    assert status_text(StatusKind.JOINED, None, name="{when} [b]x[/b]").startswith("{when} [b]x[/b] has joined")


@both_backends
async def test_an_unassigned_escalation_says_queued_never_joined(store: Store) -> None:
    # The only teammate is at capacity: the ticket waits in Unassigned.
    busy = await add_teammate(store, "ben", capacity=0)
    started = await new_conversation(store, locale="es-ES", first_message="Hola, necesito ayuda")
    result = await escalate(store, started.conversation.id, source=TicketSource.ESCALATION, reason="asked")
    assert result.assignee is None
    # No configured Spanish handoff: it is sent by the slow half, and the status line after it.
    await finish_escalation(store, OfflineAI(), result.ticket_id)
    lines = await system_lines(store, started.conversation.id)
    assert status_text(StatusKind.QUEUED, "es") in lines
    assert lines.index(status_text(StatusKind.QUEUED, "es")) == len(lines) - 1
    assert not any("unido" in line or "joined" in line for line in lines)
    assert busy  # still there, and never announced


@both_backends
async def test_a_takeover_and_an_online_assignee_are_announced_by_name(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    first = await new_conversation(store, "c1", first_message="hi")
    await escalate(store, first.conversation.id, source=TicketSource.TAKEOVER, actor_id=ana.id)
    assert status_text(StatusKind.JOINED, None, name="Ana") in await system_lines(store, first.conversation.id)

    second = await new_conversation(store, "c2", locale="de-DE", first_message="Hallo")
    result = await escalate(store, second.conversation.id, source=TicketSource.ESCALATION, reason="asked")
    assert result.assignee is not None and result.assignee.id == ana.id
    await finish_escalation(store, OfflineAI(), result.ticket_id)
    assert status_text(StatusKind.JOINED, "de", name="Ana") in await system_lines(store, second.conversation.id)


@both_backends
async def test_the_next_shift_fallback_says_when_the_team_is_back(store: Store) -> None:
    ben = await add_teammate(store, "ben", online=False)
    # Ben works one hour a week, not now (the store's clock is real time here): the fallback
    # hands him the ticket, and the customer hears when the team is back.
    now = store.now()
    weekday = (now.weekday() + 3) % 7
    await team.set_shifts(store, ben.handle, [WeeklyShift(weekday, time(9, 0), time(10, 0))])
    started = await new_conversation(store, locale="fr-FR", first_message="Bonjour")
    result = await escalate(
        store,
        started.conversation.id,
        source=TicketSource.ESCALATION,
        reason="asked",
        settings=_fallback_settings(),
    )
    assert result.assignee is not None and result.assignee.id == ben.id
    await finish_escalation(store, OfflineAI(), result.ticket_id, _fallback_settings())
    lines = await system_lines(store, started.conversation.id)
    assert any("09:00 UTC" in line and "revient" in line for line in lines), lines
    assert not any("rejoint" in line for line in lines)


@both_backends
@pytest.mark.parametrize(
    ("time_zone", "told"),
    [
        ("America/Sao_Paulo", "06:00 UTC-03"),  # no letter abbreviation: the offset
        ("Asia/Kolkata", "14:30 IST"),
        ("Not/AZone", "09:00 UTC"),  # unknown to zoneinfo: ignored, UTC as without one
        (None, "09:00 UTC"),
    ],
)
async def test_when_the_team_is_back_is_told_in_the_customers_own_time_zone(
    store: Store, time_zone: str | None, told: str
) -> None:
    ben = await add_teammate(store, "ben", online=False)
    now = store.now()
    shift_day = now.date() + timedelta(days=3)  # not the customer's today: the date is said too
    await team.set_shifts(store, ben.handle, [WeeklyShift(shift_day.weekday(), time(9, 0), time(10, 0))])
    started = await new_conversation(store, locale="pt-BR", first_message="Olá", time_zone=time_zone)
    result = await escalate(
        store, started.conversation.id, source=TicketSource.ESCALATION, reason="asked", settings=_fallback_settings()
    )
    await finish_escalation(store, OfflineAI(), result.ticket_id, _fallback_settings())
    lines = await system_lines(store, started.conversation.id)
    back = [line for line in lines if "volta" in line]
    assert len(back) == 1, lines
    assert f"{shift_day.isoformat()} {told}" in back[0]
    async with store.read() as session:
        stored = await session.scalar(select(Contact.time_zone).where(Contact.id == started.conversation.contact_id))
    assert stored == (None if time_zone in (None, "Not/AZone") else time_zone)


def test_back_at_the_same_local_day_says_only_the_time() -> None:
    start = datetime(2026, 12, 2, 22, 30, tzinfo=UTC)
    assert back_at_label(start, "Europe/Berlin", datetime(2026, 12, 2, 20, 0, tzinfo=UTC)) == "23:30 CET"
    # 22:30 UTC is already tomorrow in Tokyo, where it is still today at 10:00 UTC.
    assert back_at_label(start, "Asia/Tokyo", datetime(2026, 12, 2, 10, 0, tzinfo=UTC)) == "2026-12-03 07:30 JST"
    assert back_at_label(start, "Asia/Tokyo", datetime(2026, 12, 2, 16, 0, tzinfo=UTC)) == "07:30 JST"


def _fallback_settings():  # type: ignore[no-untyped-def]
    from inbox_tui.core.escalation import EscalationSettings

    return EscalationSettings(assignment=AssignmentSettings(next_shift_fallback=True))


@both_backends
async def test_the_first_reply_announces_the_teammate_once_and_before_the_reply(store: Store) -> None:
    ana = await add_teammate(store, "ana", capacity=0)  # at capacity: the ticket waits unassigned
    started = await new_conversation(store, locale="pt-BR", first_message="Olá")
    result = await escalate(store, started.conversation.id, source=TicketSource.ESCALATION, reason="asked")
    assert result.assignee is None
    await finish_escalation(store, OfflineAI(), result.ticket_id)
    await send_agent_reply(store, result.ticket_id, ana.id, "Oi, sou a Ana.")
    await send_agent_reply(store, result.ticket_id, ana.id, "Como posso ajudar?")
    lines = await all_lines(store, started.conversation.id)
    joined = status_text(StatusKind.JOINED, "pt", name="Ana")
    assert [t for _, t in lines].count(joined) == 1
    assert [t for _, t in lines].index(joined) == [t for _, t in lines].index("Oi, sou a Ana.") - 1


@both_backends
async def test_a_reassignment_to_an_offline_teammate_is_not_announced(store: Store) -> None:
    ana = await add_teammate(store, "ana")
    ben = await add_teammate(store, "ben", online=False)
    started = await new_conversation(store, first_message="hi")
    result = await escalate(store, started.conversation.id, source=TicketSource.TAKEOVER, actor_id=ana.id)
    await reassign(store, result.ticket_id, ben.id, ana.id)
    lines = await system_lines(store, started.conversation.id)
    assert not any("Ben" in line for line in lines)
    await team.presence_connected(store, ben.id, node="n1")
    await reassign(store, result.ticket_id, ana.id, ben.id)
    await reassign(store, result.ticket_id, ben.id, ana.id)
    assert status_text(StatusKind.JOINED, None, name="Ben") in await system_lines(store, started.conversation.id)
