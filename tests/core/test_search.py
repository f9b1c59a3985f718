"""Full-text search on SQLite (FTS5) and PostgreSQL (tsvector + GIN): what it finds,
that the index follows every write, that any input is a valid query, and filters."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import bindparam, text, update

from inbox_tui.core import escalation, search, tickets
from inbox_tui.core.conversations import record_customer_message
from inbox_tui.core.migrate import upgrade
from inbox_tui.core.models import Ticket, TicketStatus, UTCDateTime
from inbox_tui.core.search import HitKind, SearchFilters, StatusFilter
from inbox_tui.core.search_schema import sqlite_triggers
from inbox_tui.core.store import Store
from tests.conftest import (
    PG_SKIP_REASON,
    both_backends,
    create_pg_database,
    drop_pg_database,
    postgres_reachable,
    sqlite_url,
)
from tests.core.helpers import add_teammate, downgrade_to, new_conversation
from tests.core.legacy_rows import insert_contact, insert_conversation, insert_message, insert_ticket

HOSTILE_QUERIES = [
    '"',
    '""',
    '"unbalanced',
    "*",
    "stri*",
    "-",
    "-stripe",
    "(",
    ")",
    "(stripe",
    "stripe)",
    "()",
    "AND",
    "OR",
    "NOT",
    "stripe OR",
    "NOT stripe",
    "stripe AND NOT",
    "NEAR(stripe refund)",
    "NEAR",
    "text:stripe",
    "{text}: stripe",
    "^stripe",
    "stripe + refund",
    "'; DROP TABLE messages; --",
    "' OR 1=1 --",
    "%",
    "_",
    "\\",
    "\\'",
    "a:b:c",
    "!!!",
    "&",
    "|",
    "<->",
    "stripe & refund | !x",
    "stripe:*",
    "stripe:A",
    "\x00",
    "\ue000",
    "🙂",
    "[b]bold[/b]",
    "[@click=app.quit]x[/]",
    "rank",
    "bm25(search_messages)",
    "x" * 500,
    " ".join(["word"] * 64),
]


async def _hits(store: Store, query: str, filters: SearchFilters | None = None) -> list[search.SearchHit]:
    async with store.read() as session:
        return await search.search(session, query, filters)


@both_backends
async def test_search_finds_message_bodies_and_highlights_the_match(store: Store) -> None:
    started = await new_conversation(store, "c-1", name="Carla", first_message="My Stripe payment failed twice")
    await new_conversation(store, "c-2", name="Dora", first_message="Where is my parcel?")

    hits = await _hits(store, "stripe")

    assert [(hit.kind, hit.conversation_id) for hit in hits] == [(HitKind.MESSAGE, started.conversation.id)]
    hit = hits[0]
    assert hit.message_id is not None and hit.customer_name == "Carla" and hit.channel == "web"
    assert ("Stripe", True) in hit.spans
    assert "payment failed" in hit.snippet


@both_backends
async def test_search_finds_notes_names_emails_subjects_and_summaries(store: Store) -> None:
    alice = await add_teammate(store, "alice")
    started = await new_conversation(store, "marco-7", name="Marco Rossi", first_message="hello")
    claimed = await escalation.escalate(store, started.conversation.id, source="takeover", actor_id=alice.id)
    await tickets.add_note(store, claimed.ticket_id, alice.id, "Refund approved by finance")
    async with store.write() as session:
        await session.execute(
            update(Ticket)
            .where(Ticket.id == claimed.ticket_id)
            .values(subject="Invoice duplicated", summary="The customer was billed for a voucher")
        )

    assert {hit.kind for hit in await _hits(store, "finance")} == {HitKind.NOTE}
    assert {hit.kind for hit in await _hits(store, "rossi")} == {HitKind.CUSTOMER}
    assert {hit.kind for hit in await _hits(store, "marco-7@example.com")} == {HitKind.CUSTOMER}
    assert {hit.kind for hit in await _hits(store, "invoice")} == {HitKind.TICKET}
    voucher = await _hits(store, "voucher")
    assert [(hit.kind, hit.ticket_id, hit.ticket_status) for hit in voucher] == [
        (HitKind.TICKET, claimed.ticket_id, TicketStatus.ON_YOU)
    ]
    assert voucher[0].assignee == alice.name


@both_backends
async def test_search_follows_new_messages_and_edits(store: Store) -> None:
    alice = await add_teammate(store, "alice")
    started = await new_conversation(store, "c-1", first_message="hello there")
    assert await _hits(store, "kiwi") == []

    claimed = await escalation.escalate(store, started.conversation.id, source="takeover", actor_id=alice.id)
    reply = await tickets.send_agent_reply(store, claimed.ticket_id, alice.id, "Your kiwi crate ships today")
    assert [hit.ref_id for hit in await _hits(store, "kiwi")] == [reply.id]

    # An edit (and a deletion) reaches the index in the same transaction.
    async with store.write() as session:
        await session.execute(text("UPDATE messages SET text = 'mango crate' WHERE id = :id"), {"id": reply.id})
    assert await _hits(store, "kiwi") == []
    assert [hit.ref_id for hit in await _hits(store, "mango")] == [reply.id]
    async with store.write() as session:
        await session.execute(text("DELETE FROM messages WHERE id = :id"), {"id": reply.id})
    assert await _hits(store, "mango") == []


@both_backends
async def test_every_word_must_match_and_ranking_prefers_more_matches(store: Store) -> None:
    one = await new_conversation(store, "c-1", first_message="refund the order refund")
    two = await new_conversation(store, "c-2", first_message="refund the order please")
    await new_conversation(store, "c-3", first_message="an order without the r-word")

    both = await _hits(store, "refund order")
    assert {hit.conversation_id for hit in both} == {one.conversation.id, two.conversation.id}
    assert both[0].conversation_id == one.conversation.id  # the engine's ranking: two refunds
    assert {hit.conversation_id for hit in await _hits(store, "ORDER Refund")} == {
        one.conversation.id,
        two.conversation.id,
    }


@both_backends
async def test_any_input_is_a_valid_query(store: Store) -> None:
    await new_conversation(store, "c-1", first_message="stripe refund (NEAR the rank) AND more OR less 'quoted'")

    for query in HOSTILE_QUERIES:
        hits = await _hits(store, query)  # never raises
        assert all(hit.kind in HitKind for hit in hits), query
        # Operator words are words: one alone never widens the search to everything.
        word = query.strip().upper()
        if word in {"OR", "AND", "NEAR", "NOT"}:
            assert len(hits) == (0 if word == "NOT" else 1), query


@both_backends
async def test_operator_words_and_punctuation_are_text(store: Store) -> None:
    with_word = await new_conversation(store, "c-1", first_message="please do NOT refund")
    without_word = await new_conversation(store, "c-2", first_message="please refund")

    # "NOT refund" is the words "not" and "refund", not "anything but refund".
    assert [hit.conversation_id for hit in await _hits(store, "NOT refund")] == [with_word.conversation.id]
    # '-refund' is the word "refund", not "without refund".
    assert {hit.conversation_id for hit in await _hits(store, '"please" -refund')} == {
        with_word.conversation.id,
        without_word.conversation.id,
    }
    assert await _hits(store, "") == [] and await _hits(store, "   ") == []


@both_backends
async def test_filters_status_assignee_channel_and_date(store: Store) -> None:
    alice = await add_teammate(store, "alice")
    bob = await add_teammate(store, "bob")
    web = await new_conversation(store, "c-web", first_message="parcel lost")
    whatsapp = await new_conversation(store, "c-wa", channel="whatsapp", first_message="parcel lost")
    bot_only = await new_conversation(store, "c-bot", first_message="parcel lost")
    on_alice = await escalation.escalate(store, web.conversation.id, source="takeover", actor_id=alice.id)
    on_bob = await escalation.escalate(store, whatsapp.conversation.id, source="takeover", actor_id=bob.id)
    await tickets.allow_ai_replies(store, on_bob.ticket_id, bob.id)

    async def conversations_for(**filters: object) -> set[int]:
        return {hit.conversation_id for hit in await _hits(store, "parcel", SearchFilters(**filters))}  # type: ignore[arg-type]

    assert await conversations_for() == {web.conversation.id, whatsapp.conversation.id, bot_only.conversation.id}
    assert await conversations_for(channel="whatsapp") == {whatsapp.conversation.id}
    assert await conversations_for(status=StatusFilter.OPEN) == {web.conversation.id}
    assert await conversations_for(status=TicketStatus.CLOSED) == {whatsapp.conversation.id}
    assert await conversations_for(status=StatusFilter.NO_TICKET) == {bot_only.conversation.id}
    assert await conversations_for(assignee_id=alice.id) == {web.conversation.id}
    assert on_alice.ticket_id != on_bob.ticket_id
    now = store.now()
    assert await conversations_for(since=now + timedelta(hours=1)) == set()
    assert await conversations_for(until=now + timedelta(hours=1)) == {
        web.conversation.id,
        whatsapp.conversation.id,
        bot_only.conversation.id,
    }


def test_fts5_query_quotes_every_piece() -> None:
    assert search.fts5_query('say "hi" NOT -x*') == '"say" """hi""" "NOT" "-x*"'


def test_spans_split_marks_into_literal_text() -> None:
    marked = f"a [b]{search.MARK_START}Stripe{search.MARK_END} x\n y{search.MARK_END}"
    assert search.spans_of(marked) == (("a [b]", False), ("Stripe", True), (" x y", False))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_search_triggers_are_in_place_at_head(store: Store) -> None:
    """A later migration that rebuilds a table on SQLite (batch mode) drops its triggers;
    this fails if one went missing."""
    async with store.read() as session:
        names = set(await session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    assert sqlite_triggers() <= names


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
async def test_the_migration_indexes_an_existing_database(backend: str, tmp_path: Path) -> None:
    if backend == "sqlite":
        url, name = sqlite_url(tmp_path), None
    elif not postgres_reachable():
        pytest.skip(PG_SKIP_REASON)
    else:
        name, url = await create_pg_database()
    store = Store(url)
    try:
        await upgrade(store, "0003_agent_credentials")
        # Rows as that schema had them (the models describe the newer one).
        now = store.now()
        async with store.write() as session:
            contact_id = await insert_contact(session, "c-1", "Zoe Quill", now)
            conversation_id = await insert_conversation(session, contact_id, now, status="escalated")
            await insert_message(session, conversation_id, "customer", "Zoe Quill", "my Stripe receipt", now)
            ticket_id = await insert_ticket(session, conversation_id, contact_id, now, subject="Receipt")
            await session.execute(
                text(
                    "INSERT INTO timeline_events (ticket_id, kind, code, text, created_at) "
                    "VALUES (:ticket, 'note', 'note', 'escalate to billing', :now)"
                ).bindparams(bindparam("now", type_=UTCDateTime())),
                {"ticket": ticket_id, "now": now},
            )

        await upgrade(store)

        assert {hit.kind for hit in await _hits(store, "stripe")} == {HitKind.MESSAGE}
        assert {hit.kind for hit in await _hits(store, "billing")} == {HitKind.NOTE}
        assert {hit.kind for hit in await _hits(store, "quill")} == {HitKind.CUSTOMER}
        # And it steps down and up again.
        await downgrade_to(store, "0003_agent_credentials")
        await upgrade(store)
        assert {hit.kind for hit in await _hits(store, "stripe")} == {HitKind.MESSAGE}
    finally:
        await store.close()
        if name is not None:
            await drop_pg_database(name)


@both_backends
async def test_the_newest_matches_are_ranked_whether_the_newest_rows_hold_them_or_not(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL reads the newest rows first and asks the GIN index only when they hold
    too few matches: both ways give the newest matches (SQLite has one way)."""
    monkeypatch.setattr(search, "CANDIDATES", 2)
    monkeypatch.setattr(search, "PG_WINDOW", 3)
    started = await new_conversation(store, "c-1", first_message="the old papaya order")
    conversation_id = started.conversation.id
    old = [(await record_customer_message(store, conversation_id, f"papaya note {n}")).message.id for n in range(3)]
    for n in range(5):  # the newest rows: no papaya there
        await record_customer_message(store, conversation_id, f"filler line {n}")
    # Three papaya messages before the window: the two newest are the candidates.
    assert sorted(hit.ref_id for hit in await _hits(store, "papaya")) == old[1:]

    new = [(await record_customer_message(store, conversation_id, f"papaya again {n}")).message.id for n in range(3)]
    # Now the window holds enough: its two newest.
    assert sorted(hit.ref_id for hit in await _hits(store, "papaya")) == new[1:]
    # A filter that the window's matches fail sends the search to the index as well.
    assert await _hits(store, "papaya", SearchFilters(status=StatusFilter.OPEN)) == []
    assert {hit.ref_id for hit in await _hits(store, "papaya", SearchFilters(status=StatusFilter.NO_TICKET))} == set(
        new[1:]
    )


@both_backends
@pytest.mark.parametrize("conversations_walked", [1, 2])
async def test_a_filter_that_excludes_the_newest_rows_finds_the_older_matches(
    store: Store, monkeypatch: pytest.MonkeyPatch, conversations_walked: int
) -> None:
    """The newest rows match but fail the filter: PostgreSQL walks the conversations
    that pass it (``conversations_walked`` of them: 2 reach the match, 1 does not and
    leaves it to the GIN index); both ways find the older matches."""
    monkeypatch.setattr(search, "CANDIDATES", 2)
    monkeypatch.setattr(search, "PG_WINDOW", 3)
    monkeypatch.setattr(search, "PG_FILTERED_CONVERSATIONS", conversations_walked)
    bob = await add_teammate(store, "bob")
    older = await new_conversation(store, "c-old", first_message="papaya lost")
    closed_papaya = [
        (await record_customer_message(store, older.conversation.id, f"papaya again {n}")).message.id for n in range(2)
    ]
    for started in (older, await new_conversation(store, "c-new", first_message="hello there")):
        ticket = await escalation.escalate(store, started.conversation.id, source="takeover", actor_id=bob.id)
        await tickets.allow_ai_replies(store, ticket.ticket_id, bob.id)  # closes the ticket
    busy = await new_conversation(store, "c-busy", first_message="papaya one")
    for n in range(4):  # the newest rows: papaya, but no closed ticket
        await record_customer_message(store, busy.conversation.id, f"papaya more {n}")

    closed = SearchFilters(status=TicketStatus.CLOSED)
    hits = await _hits(store, "papaya", closed)
    assert sorted(hit.ref_id for hit in hits if hit.kind is HitKind.MESSAGE) == closed_papaya
    assert {hit.conversation_id for hit in hits} == {older.conversation.id}
    assert {hit.ticket_status for hit in hits} == {TicketStatus.CLOSED}
    # The same search unfiltered ranks the newest rows.
    assert {hit.conversation_id for hit in await _hits(store, "papaya") if hit.kind is HitKind.MESSAGE} == {
        busy.conversation.id
    }
