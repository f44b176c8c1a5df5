"""live chat: widget visitors and their ordered events

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import threadline.storage.tables

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = threadline.storage.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chat_visitors",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("inbox_id", ID, nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("customer_id", ID, nullable=True),
        sa.Column("conversation_id", ID, nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("verified", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("last_seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("visitor_read_seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("agent_read_seq", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_seen_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_chat_visitors_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_chat_visitors_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["inbox_id"],
            ["inboxes.id"],
            name=op.f("fk_chat_visitors_inbox_id_inboxes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_visitors")),
        sa.UniqueConstraint("key", name=op.f("uq_chat_visitors_key")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_chat_visitors_token_hash")),
    )
    op.create_index(
        op.f("ix_chat_visitors_customer_id"), "chat_visitors", ["customer_id"], unique=False
    )
    op.create_table(
        "chat_events",
        sa.Column("visitor_id", ID, nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("message_id", ID, nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("data", threadline.storage.tables.JSON, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_chat_events_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["chat_visitors.id"],
            name=op.f("fk_chat_events_visitor_id_chat_visitors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("visitor_id", "seq", name=op.f("pk_chat_events")),
    )
    op.create_index(op.f("ix_chat_events_message_id"), "chat_events", ["message_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_chat_events_message_id"), table_name="chat_events")
    op.drop_table("chat_events")
    op.drop_index(op.f("ix_chat_visitors_customer_id"), table_name="chat_visitors")
    op.drop_table("chat_visitors")
