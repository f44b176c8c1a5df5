"""time_passed rules: when a conversation's status last changed, its last agent reply, firings

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import threadline.storage.tables

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = threadline.storage.tables.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("status_changed_at", WHEN, nullable=True))
        batch.add_column(sa.Column("last_agent_at", WHEN, nullable=True))
    # Past conversations: the last update is the latest their status can have changed
    # (a rule then waits longer rather than firing early), and the last agent reply is
    # read from their messages.
    op.execute("UPDATE conversations SET status_changed_at = updated_at")
    op.execute(
        "UPDATE conversations SET last_agent_at = (SELECT max(m.created_at) FROM messages m "
        "WHERE m.conversation_id = conversations.id AND m.direction = 'outbound' "
        "AND m.author_id IS NOT NULL)"
    )
    op.create_index(
        op.f("ix_conversations_status_status_changed_at"),
        "conversations",
        ["status", "status_changed_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_conversations_status_last_agent_at"),
        "conversations",
        ["status", "last_agent_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_conversations_status_last_inbound_at"),
        "conversations",
        ["status", "last_inbound_at"],
        unique=False,
    )
    op.create_table(
        "rule_firings",
        sa.Column("rule_id", _ID, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("fired_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["rules.id"],
            name=op.f("fk_rule_firings_rule_id_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_rule_firings_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rule_id", "conversation_id", name=op.f("pk_rule_firings")),
    )
    op.create_index(
        op.f("ix_rule_firings_conversation_id"),
        "rule_firings",
        ["conversation_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_rule_firings_conversation_id"), table_name="rule_firings")
    op.drop_table("rule_firings")
    op.drop_index(op.f("ix_conversations_status_last_inbound_at"), table_name="conversations")
    op.drop_index(op.f("ix_conversations_status_last_agent_at"), table_name="conversations")
    op.drop_index(op.f("ix_conversations_status_status_changed_at"), table_name="conversations")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("last_agent_at")
        batch.drop_column("status_changed_at")
