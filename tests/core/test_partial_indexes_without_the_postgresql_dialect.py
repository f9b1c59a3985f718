"""An inbox on SQLite never loads SQLAlchemy's PostgreSQL dialect (tens of milliseconds
of every start), and the open-ticket partial indexes stay partial on PostgreSQL all the
same: their condition rides in the index's ``info`` and PostgreSQL's CREATE INDEX adds it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from inbox_tui.core.migrate import upgrade
from inbox_tui.core.models import Base
from inbox_tui.core.store import Store
from tests.conftest import PG_SKIP_REASON, create_pg_database, drop_pg_database, postgres_reachable, sqlite_url

OPEN_TICKET_INDEXES = {"uq_tickets_open_conversation", "ix_tickets_open_updated", "ix_tickets_open_assignee"}

FIRST_SCREEN_ON_SQLITE = textwrap.dedent(
    """
    import asyncio, sys
    import inbox_tui.tui.app  # everything the inbox imports to start
    from inbox_tui.core import agents, attention, events
    from inbox_tui.core.views import View
    from inbox_tui.runtime import open_runtime
    from inbox_tui.settings import AISettings, Settings

    async def first_screen():
        runtime = await open_runtime(
            Settings(database_url=sys.argv[1], ai=AISettings(backend="offline")), build_ai=False
        )
        try:
            await agents.authenticate(runtime.store, "not a token")
            async with runtime.store.read() as session:
                await events.last_id(session)
                await attention.page(session, View.CONVERSATIONS, None)
                await attention.page(session, View.ALL_OPEN, None)
        finally:
            await runtime.store.close()

    asyncio.run(first_screen())
    loaded = sorted(m for m in sys.modules if m.startswith("sqlalchemy.dialects.postgresql") or m == "asyncpg")
    print(loaded)
    """
)


def test_an_inbox_on_sqlite_reads_its_first_screen_without_the_postgresql_dialect(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)

    async def migrate() -> None:  # the database exists already, as at every start but the first
        store = Store(url)
        try:
            await upgrade(store)
        finally:
            await store.close()

    asyncio.run(migrate())
    child = subprocess.run(
        [sys.executable, "-c", FIRST_SCREEN_ON_SQLITE, url], capture_output=True, text=True, timeout=120
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip().splitlines()[-1] == "[]"


async def test_the_models_create_the_open_ticket_indexes_as_partial_indexes_on_postgresql() -> None:
    if not postgres_reachable():
        pytest.skip(PG_SKIP_REASON)
    name, url = await create_pg_database()
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
            rows = await connection.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tickets'")
            )
            definitions = {row.indexname: row.indexdef for row in rows}
    finally:
        await engine.dispose()
        await drop_pg_database(name)
    for index in OPEN_TICKET_INDEXES:
        assert "WHERE" in definitions[index] and "'closed'" in definitions[index], definitions[index]
    assert "WHERE" not in definitions["ix_tickets_conversation"]
