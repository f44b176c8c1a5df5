"""first response due: when a waiting customer is owed an answer

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import threadline.storage.tables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: no table is rebuilt, so no trigger is lost.
    with op.batch_alter_table("conversations", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column(
                "first_response_due_at",
                threadline.storage.tables.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.create_index(
            batch_op.f("ix_conversations_status_first_response_due_at"),
            ["status", "first_response_due_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_status_first_response_due_at"))
        batch_op.drop_column("first_response_due_at")
