"""agent workspace: team assignment, snooze, waiting time, tags, read markers, attributes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import threadline.storage.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


def _when() -> threadline.storage.tables.UTCDateTime:
    return threadline.storage.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    # Plain ADD COLUMNs: no table is rebuilt, so no trigger is lost (STACK.md gotcha 4).
    # Alembic will not add a column with a foreign key on SQLite, which itself can.
    if op.get_context().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE conversations ADD COLUMN team_id INTEGER "
            "CONSTRAINT fk_conversations_team_id_teams REFERENCES teams (id)"
        )
    else:
        op.add_column("conversations", sa.Column("team_id", _ID, nullable=True))
        op.create_foreign_key(
            op.f("fk_conversations_team_id_teams"),
            "conversations",
            "teams",
            ["team_id"],
            ["id"],
        )
    with op.batch_alter_table("conversations", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("snoozed_until", _when(), nullable=True))
        batch_op.add_column(sa.Column("waiting_since", _when(), nullable=True))
        batch_op.create_index(batch_op.f("ix_conversations_team_id"), ["team_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_conversations_status_waiting_since"),
            ["status", "waiting_since"],
            unique=False,
        )
    with op.batch_alter_table("customers", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("attributes", _JSON, server_default="{}", nullable=False))
    op.create_table(
        "conversation_tags",
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("tag", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_tags_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", "tag", name=op.f("pk_conversation_tags")),
    )
    op.create_index(op.f("ix_conversation_tags_tag"), "conversation_tags", ["tag"], unique=False)
    op.create_table(
        "conversation_reads",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("read_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_conversation_reads_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_reads_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "conversation_id", name=op.f("pk_conversation_reads")),
    )
    op.create_index(
        op.f("ix_conversation_reads_conversation_id"),
        "conversation_reads",
        ["conversation_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_conversation_reads_conversation_id"), table_name="conversation_reads")
    op.drop_table("conversation_reads")
    op.drop_index(op.f("ix_conversation_tags_tag"), table_name="conversation_tags")
    op.drop_table("conversation_tags")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("attributes")
    if op.get_context().dialect.name == "postgresql":
        op.drop_constraint(
            op.f("fk_conversations_team_id_teams"), "conversations", type_="foreignkey"
        )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_status_waiting_since"))
        batch_op.drop_index(batch_op.f("ix_conversations_team_id"))
        batch_op.drop_column("waiting_since")
        batch_op.drop_column("snoozed_until")
        batch_op.drop_column("team_id")
