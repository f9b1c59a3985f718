"""customer time zone: the IANA name a customer's client sends, for the times they are told

Revision ID: 0007_customer_time_zone
Revises: 0006_conversation_attention
Create Date: 2026-12-02 12:45:00
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0007_customer_time_zone"
down_revision: Union[str, None] = "0006_conversation_attention"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: no table copy, the search triggers stay.
    op.add_column("contacts", sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("contacts", "time_zone")
