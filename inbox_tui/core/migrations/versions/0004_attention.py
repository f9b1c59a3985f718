"""attention: per-teammate read marks on conversations (unread state in every list)

Revision ID: 0004_attention
Revises: 0003_agent_credentials
Create Date: 2026-12-02 00:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import inbox_tui.core.models

revision: str = "0004_attention"
down_revision: Union[str, None] = "0003_agent_credentials"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "read_marks",
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("last_read_message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("read_at", inbox_tui.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_read_marks_agent_id_agents"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_read_marks_conversation_id_conversations")),
        sa.PrimaryKeyConstraint("agent_id", "conversation_id", name=op.f("pk_read_marks")),
    )


def downgrade() -> None:
    op.drop_table("read_marks")
