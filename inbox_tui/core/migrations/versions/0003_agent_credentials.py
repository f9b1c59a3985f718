"""agent credentials: one-time sign-in links and web sessions, stored hashed

Revision ID: 0003_agent_credentials
Revises: 0003_bot_outbox
Create Date: 2026-12-01 11:00:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import inbox_tui.core.models

revision: str = "0003_agent_credentials"
down_revision: Union[str, None] = "0003_bot_outbox"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "agent_credentials",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", inbox_tui.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", inbox_tui.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_agent_credentials_agent_id_agents"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_credentials")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_agent_credentials_secret_hash")),
    )
    with op.batch_alter_table("agent_credentials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_credentials_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agent_credentials_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_table("agent_credentials")
