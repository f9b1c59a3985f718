"""ticket view indexes: open tickets newest first, by assignee, by conversation

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 17:30:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: Union[str, None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = sa.text("status != 'closed'")


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_conversation", ["conversation_id"], unique=False)
        batch_op.create_index("ix_tickets_open_updated", ["updated_at", "id"], unique=False,
                              sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.create_index("ix_tickets_open_assignee", ["assignee_id", "updated_at", "id"], unique=False,
                              sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_open_assignee", sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.drop_index("ix_tickets_open_updated", sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.drop_index("ix_tickets_conversation")
