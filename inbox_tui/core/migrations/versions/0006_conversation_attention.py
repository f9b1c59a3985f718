"""conversation attention: the latest message's author and name, and since when the
customer waits, kept on the conversation row (the ticket lists stop scanning messages)

The new message's UPDATE of the conversation keeps them from now on; existing rows are
filled from their messages here.

Revision ID: 0006_conversation_attention
Revises: 0005_search_lifecycle
Create Date: 2026-12-02 12:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import inbox_tui.core.models

revision: str = "0006_conversation_attention"
down_revision: Union[str, None] = "0005_search_lifecycle"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The tables as this revision knows them (not the models, which move on).
_conversations = sa.table(
    "conversations",
    sa.column("id", sa.Integer),
    sa.column("last_message_author", sa.String),
    sa.column("last_message_name", sa.String),
    sa.column("waiting_since", sa.DateTime),
)
_messages = sa.table(
    "messages",
    sa.column("id", sa.Integer),
    sa.column("conversation_id", sa.Integer),
    sa.column("author", sa.String),
    sa.column("name", sa.String),
    sa.column("created_at", sa.DateTime),
)


def _backfill() -> None:
    """One UPDATE over every conversation, from its messages (indexed by conversation, id)."""
    message, reply = _messages.alias("message"), _messages.alias("reply")
    mine = message.c.conversation_id == _conversations.c.id
    latest = sa.select(message.c.author).where(mine).order_by(message.c.id.desc()).limit(1)
    last_reply = (
        sa.select(sa.func.max(reply.c.id))
        .where(reply.c.conversation_id == message.c.conversation_id, reply.c.author == "agent")
        .scalar_subquery()
    )
    first_unanswered = (
        sa.select(message.c.created_at)
        .where(mine, message.c.author == "customer", message.c.id > sa.func.coalesce(last_reply, 0))
        .order_by(message.c.id)
        .limit(1)
        .scalar_subquery()
    )
    op.execute(
        _conversations.update().values(
            last_message_author=sa.func.coalesce(latest.scalar_subquery(), ""),
            last_message_name=sa.func.coalesce(latest.with_only_columns(message.c.name).scalar_subquery(), ""),
            waiting_since=first_unanswered,
        )
    )


def upgrade() -> None:
    # Plain ADD COLUMNs on SQLite too (no batch rebuild of a table others reference).
    op.add_column(
        "conversations", sa.Column("last_message_author", sa.String(length=16), server_default="", nullable=False)
    )
    op.add_column(
        "conversations", sa.Column("last_message_name", sa.String(length=200), server_default="", nullable=False)
    )
    op.add_column(
        "conversations",
        sa.Column("waiting_since", inbox_tui.core.models.UTCDateTime(timezone=True), nullable=True),
    )
    _backfill()


def downgrade() -> None:
    for column in ("waiting_since", "last_message_name", "last_message_author"):
        op.execute(f"ALTER TABLE conversations DROP COLUMN {column}")
