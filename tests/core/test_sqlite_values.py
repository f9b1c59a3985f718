"""Values on SQLite: the one-call UTC datetime processors write and read exactly what
SQLAlchemy's own chain does, and the event payloads' JSON (through msgspec) keeps every
value the standard library's encoder kept."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import TypeDecorator, select, text
from sqlalchemy.dialects.sqlite import aiosqlite, pysqlite

from inbox_tui.core import events
from inbox_tui.core.events import EventKind, PendingEvent
from inbox_tui.core.json_text import json_text, json_value
from inbox_tui.core.models import Event, UTCDateTime
from inbox_tui.core.store import Store


def _random_datetimes(count: int) -> list[datetime]:
    chosen = random.Random(14)
    zones = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    values = []
    for _ in range(count):
        values.append(
            datetime(
                chosen.randint(1900, 2200),
                chosen.randint(1, 12),
                chosen.randint(1, 28),
                chosen.randint(0, 23),
                chosen.randint(0, 59),
                chosen.randint(0, 59),
                chosen.choice([0, 1, 999_999, chosen.randint(0, 999_999)]),
                tzinfo=chosen.choice(zones),
            )
        )
    return values


@pytest.mark.parametrize("dialect", [pysqlite.dialect(), aiosqlite.dialect()], ids=["pysqlite", "aiosqlite"])
def test_utc_datetimes_are_stored_and_read_as_sqlalchemy_does(dialect: object) -> None:
    column = UTCDateTime()
    fast_bind = column._cached_bind_processor(dialect)  # type: ignore[arg-type]
    fast_result = column._cached_result_processor(dialect, None)  # type: ignore[arg-type]
    # SQLAlchemy's own chain: this decorator's hooks around SQLite's DATETIME.
    implementation = column.dialect_impl(dialect)  # type: ignore[arg-type]
    stock_bind = TypeDecorator.bind_processor(implementation, dialect)  # type: ignore[arg-type]
    stock_result = TypeDecorator.result_processor(implementation, dialect, None)  # type: ignore[arg-type]
    assert fast_bind is not None and fast_result is not None and stock_bind and stock_result
    for value in _random_datetimes(2_000):
        stored = fast_bind(value)
        assert stored == stock_bind(value)
        assert fast_bind(value) == stored  # the same object again: the remembered text
        assert fast_result(stored) == stock_result(stored) == value
        assert fast_result(stored).tzinfo is UTC
    # Text written by other means (no fraction, a date alone) reads as before too.
    # (The last is as long as the text written here, and carries an offset.)
    for stored in ("2026-12-03 11:42:21", "2026-12-03", "2026-12-03 11:42:21.5", "2026-12-03 11:42:21.1+0500"):
        assert fast_result(stored) == stock_result(stored)
    assert fast_bind(None) is None and fast_result(None) is None
    with pytest.raises(ValueError, match="naive datetime"):
        fast_bind(datetime(2026, 12, 3, 12, 0))


@pytest.mark.parametrize(
    "payload",
    [
        {"text": "plain", "n": 3, "flag": True, "none": None, "list": [1, "two", 3.5]},
        {"text": "héllo 🌍 — ünïcode", "nested": {"a": {"b": [{"c": 1}]}}},
        {"text": "a lone surrogate \ud800 stays storable"},
        {"big": 2**70, "small": -(2**63)},
    ],
    ids=["plain", "unicode", "lone-surrogate", "big-integers"],
)
def test_json_text_round_trips_what_the_standard_library_did(payload: dict[str, object]) -> None:
    assert json_value(json_text(payload)) == payload


def test_payload_json_written_before_this_change_still_reads() -> None:
    # The standard library's text: spaces, \u escapes, an escaped lone surrogate.
    assert json_value('{"text": "h\\u00e9llo \\ud800", "n": 1}') == {"text": "héllo \ud800", "n": 1}


def test_event_payloads_round_trip_through_a_sqlite_store(tmp_path) -> None:  # type: ignore[no-untyped-def]
    async def run() -> None:
        from inbox_tui.core.migrate import upgrade

        store = Store(f"sqlite+aiosqlite:///{tmp_path / 'inbox.db'}")
        try:
            await upgrade(store)
            payloads = [{"text": "héllo 🌍", "ids": [1, 2], "big": 2**70}, {"text": "lone \ud800"}]
            await store.run_write(
                events.append_sync,
                store.now(),
                *(PendingEvent(EventKind.MESSAGE, conversation_id=None, payload=p) for p in payloads),
            )
            async with store.read() as session:
                stored = list(await session.scalars(select(Event.payload).order_by(Event.id)))
                raw = await session.scalar(text("SELECT payload FROM events ORDER BY id LIMIT 1"))
            assert stored == payloads
            assert "héllo 🌍" in raw  # UTF-8 text, not \\u escapes: msgspec wrote it
        finally:
            await store.close()

    asyncio.run(run())
