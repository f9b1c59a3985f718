"""Alembic environment. Runs on the connection ``migrate.upgrade`` hands over, or on
the URL in the Alembic config when the ``alembic`` command is used directly."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from inbox_tui.core.models import Base
from inbox_tui.core.search_schema import include_name

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,  # the search schema is not in the models
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return

    from inbox_tui.core.store import Store

    async def _with_store() -> None:
        store = Store(config.get_main_option("sqlalchemy.url") or "")
        try:
            async with store.write_engine.begin() as conn:
                await conn.run_sync(_run)
        finally:
            await store.close()

    asyncio.run(_with_store())


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
