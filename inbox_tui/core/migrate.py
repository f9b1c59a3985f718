"""Schema migrations through Alembic, callable from code.

Only ``inbox-tui serve``, ``inbox-tui db upgrade`` and the demo (on its own embedded file)
migrate. Every other command checks that the database is at the schema this program
expects and says clearly when it is behind or ahead, so a teammate upgrading their
inbox never migrates a shared database under running servers.

Alembic is imported only when a migration runs or the database is not at ``HEAD``: the
usual start finds the database current with one query, and the inbox opens sooner."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from inbox_tui.core.database_url import sqlite_file
from inbox_tui.core.private_files import prepare_sqlite_file
from inbox_tui.core.store import Store, StoreError

if TYPE_CHECKING:
    from alembic.config import Config

#: The newest revision in migrations/versions (a test checks it against Alembic's head).
HEAD = "0007_customer_time_zone"
MIGRATIONS = Path(__file__).with_name("migrations")
# Any fixed number: every node that upgrades at once takes this lock in turn on PostgreSQL.
_PG_MIGRATION_LOCK = 73_110_001


def alembic_config(database_url: str | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


class SchemaMismatch(StoreError):
    """The database is missing, or not at the schema this program expects."""


UPGRADE_HINT = "run `inbox-tui db upgrade` (or start `inbox-tui serve`, which does it)"


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def check_database_exists(database_url: str) -> None:
    """A SQLite file that does not exist yet is not created by a command that only reads."""
    path = sqlite_file(database_url)
    if path is not None and not path.exists():
        raise SchemaMismatch(f"no database at {path} yet: {UPGRADE_HINT}")


async def check_schema(store: Store) -> None:
    """Refuse, with one clear line, a database that is not at this program's schema."""
    if await stored_revision(store) == HEAD:
        return
    current, head = await current_revision(store), head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaMismatch(f"the database has no tables yet: {UPGRADE_HINT}")
    if current in known_revisions():
        raise SchemaMismatch(f"the database schema ({current}) is behind this program ({head}): {UPGRADE_HINT}")
    raise SchemaMismatch(_ahead(current))


def _ahead(current: str) -> str:
    return (
        f"the database schema ({current}) is newer than this program knows ({head_revision()}): "
        "it was upgraded by a newer inbox-tui; upgrade this one to match"
    )


async def stored_revision(store: Store) -> str | None:
    """The revision in the database's version table, in one query; None when there is
    none or no single one (Alembic's own answer is then asked for)."""
    try:
        async with store.read_engine.connect() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except DBAPIError:
        return None  # no version table yet
    return rows[0] if len(rows) == 1 else None


async def current_revision(store: Store) -> str | None:
    def _current(connection: Connection) -> str | None:
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()

    async with store.read_engine.connect() as conn:
        return await conn.run_sync(_current)


async def upgrade(store: Store, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to run from several processes at once."""

    def _upgrade(connection: Connection) -> None:
        from alembic import command
        from alembic.runtime.migration import MigrationContext

        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        current = MigrationContext.configure(connection).get_current_revision()
        if current is not None and current not in known_revisions():
            raise SchemaMismatch(_ahead(current))
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    prepare_sqlite_file(store.url.render_as_string(hide_password=False))
    # The write engine begins with BEGIN IMMEDIATE on SQLite: one migrator at a time.
    async with store.write_engine.begin() as conn:
        await conn.run_sync(_upgrade)


async def ensure_schema(store: Store) -> None:
    """Upgrade if the database is behind (first start of the embedded default)."""
    prepare_sqlite_file(store.url.render_as_string(hide_password=False))
    if await stored_revision(store) != HEAD and await current_revision(store) != head_revision():
        await upgrade(store)
