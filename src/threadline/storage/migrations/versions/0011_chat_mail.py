"""chat by email: what a visitor was mailed, their last transcript, their page

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import threadline.storage.tables

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WHEN = threadline.storage.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMNs: no table is rebuilt (chat_visitors has no search triggers anyway).
    with op.batch_alter_table("chat_visitors", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("mailed_seq", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("transcript_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("origin", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chat_visitors", schema=None) as batch_op:
        batch_op.drop_column("origin")
        batch_op.drop_column("transcript_at")
        batch_op.drop_column("mailed_seq")
