"""bot outbox: the replies the bot owes, and the conversation epoch that makes late answers stale

Revision ID: 0003_bot_outbox
Revises: 0002
Create Date: 2026-12-01 11:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import inbox_tui.core.models

revision: str = "0003_bot_outbox"
down_revision: Union[str, None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("epoch", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "owed_replies",
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("created_at", inbox_tui.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", inbox_tui.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_owed_replies_conversation_id_conversations")),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"],
                                name=op.f("fk_owed_replies_message_id_messages")),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_owed_replies")),
    )
    with op.batch_alter_table("owed_replies", schema=None) as batch_op:
        batch_op.create_index("ix_owed_replies_lease", ["lease_until", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_owed_replies_conversation_id"), ["conversation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("owed_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_owed_replies_conversation_id"))
        batch_op.drop_index("ix_owed_replies_lease")
    op.drop_table("owed_replies")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("epoch")
