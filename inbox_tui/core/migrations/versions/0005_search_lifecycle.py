"""search and lifecycle: full-text search over messages, notes, contacts and tickets;
the snooze time of a ticket; saved replies

SQLite: FTS5 external-content tables kept in step by triggers; PostgreSQL: generated
tsvector columns with GIN indexes. Both index the rows already in the database.

Revision ID: 0005_search_lifecycle
Revises: 0004_attention
Create Date: 2026-12-01 23:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import inbox_tui.core.models
from inbox_tui.core import search_schema

revision: str = "0005_search_lifecycle"
down_revision: Union[str, None] = "0004_attention"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    # A plain ADD COLUMN on SQLite too: rebuilding the table would drop its search triggers.
    op.add_column("tickets", sa.Column("snoozed_until", inbox_tui.core.models.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "saved_replies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shortcut", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), server_default="", nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", inbox_tui.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", inbox_tui.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_replies")),
        sa.UniqueConstraint("shortcut", "language", name=op.f("uq_saved_replies_shortcut")),
    )
    if op.get_bind().dialect.name == "sqlite":
        _run(search_schema.sqlite_statements())
    else:
        _run(search_schema.postgresql_statements())


def downgrade() -> None:
    op.drop_table("saved_replies")
    if op.get_bind().dialect.name == "sqlite":
        _run(search_schema.sqlite_drop_statements())
    else:
        _run(search_schema.postgresql_drop_statements())
    # Not a batch rebuild: tickets is referenced by foreign keys (SQLite >= 3.35 drops columns).
    op.execute("ALTER TABLE tickets DROP COLUMN snoozed_until")
