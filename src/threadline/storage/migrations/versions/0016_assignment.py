"""assignment: agents' capacity, skills and shifts; inboxes' strategy; the queue

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import threadline.storage.tables

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = threadline.storage.tables.UTCDateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "agent_assignment",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("capacity", JSON, nullable=False),
        sa.Column("skills", JSON, nullable=False),
        sa.Column("shifts", JSON, nullable=True),
        sa.Column("last_assigned_at", WHEN, nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_agent_assignment_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent_assignment")),
    )
    op.create_table(
        "inbox_assignment",
        sa.Column("inbox_id", _ID, nullable=False),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("sticky", sa.Boolean(), nullable=False),
        sa.Column("skills", JSON, nullable=False),
        sa.Column("level2_team_id", _ID, nullable=True),
        sa.Column("batch_times", JSON, nullable=False),
        sa.Column("batch_timezone", sa.String(length=64), nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"],
            ["inboxes.id"],
            name=op.f("fk_inbox_assignment_inbox_id_inboxes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["level2_team_id"],
            ["teams.id"],
            name=op.f("fk_inbox_assignment_level2_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("inbox_id", name=op.f("pk_inbox_assignment")),
    )
    op.create_table(
        "assignment_queue",
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("due_at", WHEN, nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("tried_at", WHEN, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_assignment_queue_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_assignment_queue")),
    )
    op.create_index(
        op.f("ix_assignment_queue_due_at"), "assignment_queue", ["due_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_assignment_queue_due_at"), table_name="assignment_queue")
    op.drop_table("assignment_queue")
    op.drop_table("inbox_assignment")
    op.drop_table("agent_assignment")
