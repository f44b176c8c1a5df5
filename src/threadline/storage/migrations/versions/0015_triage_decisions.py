"""triage: each decision on a conversation, agents' corrections, the edited lexicon

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import threadline.storage.tables

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = threadline.storage.tables.UTCDateTime(timezone=True)
JSON = threadline.storage.tables.JSON


def upgrade() -> None:
    op.create_table(
        "triage_decisions",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("conversation_id", ID, nullable=False),
        sa.Column("message_id", ID, nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("recommended_channel", sa.String(length=16), nullable=True),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("category_by_agent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("corrected_by_id", ID, nullable=True),
        sa.Column("corrects_id", ID, nullable=True),
        sa.Column("changes", JSON, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_triage_decisions_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_triage_decisions_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["corrected_by_id"],
            ["users.id"],
            name=op.f("fk_triage_decisions_corrected_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["corrects_id"],
            ["triage_decisions.id"],
            name=op.f("fk_triage_decisions_corrects_id_triage_decisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_decisions")),
    )
    op.create_index(
        op.f("ix_triage_decisions_conversation_id_id"),
        "triage_decisions",
        ["conversation_id", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_triage_decisions_message_id"), "triage_decisions", ["message_id"], unique=False
    )
    op.create_table(
        "triage_lexicons",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("created_by_id", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_triage_lexicons_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_lexicons")),
    )


def downgrade() -> None:
    op.drop_table("triage_lexicons")
    op.drop_index(op.f("ix_triage_decisions_message_id"), table_name="triage_decisions")
    op.drop_index(op.f("ix_triage_decisions_conversation_id_id"), table_name="triage_decisions")
    op.drop_table("triage_decisions")
