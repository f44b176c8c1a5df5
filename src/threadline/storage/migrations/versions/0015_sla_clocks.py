"""sla clocks: the response targets running on conversations, for their timers

Revision ID: 0015
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import threadline.storage.tables

revision = "0015"
down_revision = "0011"
branch_labels = None
depends_on = None

WHEN = threadline.storage.tables.UTCDateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sla_clocks",
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("warn_at", WHEN, nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("warned_at", WHEN, nullable=True),
        sa.Column("breached_at", WHEN, nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_sla_clocks_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", "kind", name=op.f("pk_sla_clocks")),
    )


def downgrade() -> None:
    op.drop_table("sla_clocks")
