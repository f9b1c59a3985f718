"""The migrations build exactly the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from inbox_tui.core.migrate import current_revision, head_revision
from inbox_tui.core.models import Base
from inbox_tui.core.search_schema import include_name
from inbox_tui.core.store import Store
from tests.conftest import both_backends


@both_backends
async def test_migrated_schema_matches_the_models(store: Store) -> None:
    assert await current_revision(store) == head_revision()

    def differences(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": False, "include_name": include_name})
        return compare_metadata(context, Base.metadata)

    def partial_indexes(connection):  # type: ignore[no-untyped-def]
        return {ix["name"] for ix in inspect(connection).get_indexes("tickets")}

    async with store.read_engine.connect() as conn:
        assert await conn.run_sync(differences) == []
        indexes = await conn.run_sync(partial_indexes)
    assert {
        "uq_tickets_open_conversation",
        "ix_tickets_open_updated",
        "ix_tickets_open_assignee",
        "ix_tickets_conversation",
    } <= indexes
