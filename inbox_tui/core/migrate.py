"""Schema migrations through Alembic, callable from code (``inbox-tui db upgrade``, first start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from inbox_tui.core.store import Store

MIGRATIONS = Path(__file__).with_name("migrations")
# Any fixed number: every node that upgrades at once takes this lock in turn on PostgreSQL.
_PG_MIGRATION_LOCK = 73_110_001


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


async def current_revision(store: Store) -> str | None:
    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with store.read_engine.connect() as conn:
        return await conn.run_sync(_current)


async def upgrade(store: Store, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to run from several processes at once."""

    def _upgrade(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    # The write engine begins with BEGIN IMMEDIATE on SQLite: one migrator at a time.
    async with store.write_engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def ensure_schema(store: Store) -> None:
    """Upgrade if the database is behind (first start of the embedded default)."""
    if await current_revision(store) != head_revision():
        await upgrade(store)
