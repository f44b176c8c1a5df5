"""redirects: account questions from social DMs sent on to a verified channel

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import threadline.storage.tables

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = threadline.storage.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "redirects",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("identity", sa.String(length=300), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("inbox_id", _ID, nullable=True),
        sa.Column("message_id", _ID, nullable=False),
        sa.Column("reply_id", _ID, nullable=True),
        sa.Column("expires_at", WHEN, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("email_code_hash", sa.String(length=64), nullable=True),
        sa.Column("email_expires_at", WHEN, nullable=True),
        sa.Column("email_sent_at", WHEN, nullable=True),
        sa.Column("emails_sent", sa.Integer(), nullable=False),
        sa.Column("visitor_id", _ID, nullable=True),
        sa.Column("proved_at", WHEN, nullable=True),
        sa.Column("proved_by", sa.String(length=16), nullable=True),
        sa.Column("proved_customer_id", _ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_redirects_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_redirects_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["inbox_id"],
            ["inboxes.id"],
            name=op.f("fk_redirects_inbox_id_inboxes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_redirects_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["reply_id"], ["messages.id"], name=op.f("fk_redirects_reply_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["chat_visitors.id"],
            name=op.f("fk_redirects_visitor_id_chat_visitors"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proved_customer_id"],
            ["customers.id"],
            name=op.f("fk_redirects_proved_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redirects")),
        sa.UniqueConstraint("message_id", name=op.f("uq_redirects_message_id")),
        sa.UniqueConstraint("email_code_hash", name=op.f("uq_redirects_email_code_hash")),
    )
    op.create_index(
        op.f("ix_redirects_conversation_id_created_at"),
        "redirects",
        ["conversation_id", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_redirects_visitor_id"), "redirects", ["visitor_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_redirects_visitor_id"), table_name="redirects")
    op.drop_index(op.f("ix_redirects_conversation_id_created_at"), table_name="redirects")
    op.drop_table("redirects")
