"""workspace indexes: inbox counts, a message's timeline entry, search by name and subject

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# PostgreSQL: "every word typed begins a word" search over names, subjects and
# identity values (queries/search) reads these trigram indexes instead of every
# row: 30-185 ms became 5-20 ms at 100k customers. pg_trgm is a trusted contrib
# extension (PostgreSQL 13+): the database owner may create it.
_PG_TRIGRAM = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_customers_name_trgm ON customers USING gin (lower(name) gin_trgm_ops)",
    "CREATE INDEX ix_conversations_subject_key_trgm ON conversations "
    "USING gin (subject_key gin_trgm_ops)",
    "CREATE INDEX ix_identities_value_trgm ON identities USING gin (value gin_trgm_ops)",
)
_PG_TRIGRAM_DROP = (
    "DROP INDEX IF EXISTS ix_identities_value_trgm",
    "DROP INDEX IF EXISTS ix_conversations_subject_key_trgm",
    "DROP INDEX IF EXISTS ix_customers_name_trgm",
)


def upgrade() -> None:
    # The sidebar counts (mine, unassigned, all, per team) read only this index.
    op.create_index(
        op.f("ix_conversations_status_team_id_assignee_id_inbox_id"),
        "conversations",
        ["status", "team_id", "assignee_id", "inbox_id"],
        unique=False,
    )
    # A delivery status change finds the entry that shows its message (the live push).
    op.create_index(
        op.f("ix_timeline_entries_message_id"), "timeline_entries", ["message_id"], unique=False
    )
    if op.get_context().dialect.name == "postgresql":
        for stmt in _PG_TRIGRAM:
            op.execute(stmt)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for stmt in _PG_TRIGRAM_DROP:
            op.execute(stmt)
    op.drop_index(op.f("ix_timeline_entries_message_id"), table_name="timeline_entries")
    op.drop_index(
        op.f("ix_conversations_status_team_id_assignee_id_inbox_id"), table_name="conversations"
    )
