"""auto_replies: the off-hours acknowledgements sent, one per conversation per closed period

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import threadline.storage.tables

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = threadline.storage.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "auto_replies",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("inbox_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period", WHEN, nullable=False),
        sa.Column("message_id", ID, nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_auto_replies_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["inbox_id"],
            ["inboxes.id"],
            name=op.f("fk_auto_replies_inbox_id_inboxes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_auto_replies_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auto_replies")),
        sa.UniqueConstraint(
            "conversation_id",
            "kind",
            "period",
            name=op.f("uq_auto_replies_conversation_id_kind_period"),
        ),
    )
    op.create_index(
        op.f("ix_auto_replies_kind_period"), "auto_replies", ["kind", "period"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_auto_replies_kind_period"), table_name="auto_replies")
    op.drop_table("auto_replies")
