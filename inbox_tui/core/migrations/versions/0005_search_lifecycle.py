"""search and lifecycle: full-text search over messages, notes, contacts and tickets

SQLite: FTS5 external-content tables kept in step by triggers; PostgreSQL: generated
tsvector columns with GIN indexes. Both index the rows already in the database.

Revision ID: 0005_search_lifecycle
Revises: 0003_agent_credentials
Create Date: 2026-12-01 23:30:00
"""
from typing import Sequence, Union

from alembic import op

from inbox_tui.core import search_schema

revision: str = "0005_search_lifecycle"
down_revision: Union[str, None] = "0003_agent_credentials"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _run(search_schema.sqlite_statements())
    else:
        _run(search_schema.postgresql_statements())


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _run(search_schema.sqlite_drop_statements())
    else:
        _run(search_schema.postgresql_drop_statements())
