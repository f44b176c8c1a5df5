"""search indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

from threadline.storage.fts import create_fts, drop_fts

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The search column as 0001 built it, so a downgrade restores exactly that.
_PG_0001_SEARCH = (
    "ALTER TABLE messages ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED",
    "CREATE INDEX ix_messages_search_vector ON messages USING gin (search_vector)",
)


def upgrade() -> None:
    # Search scoped to a customer walks their messages newest first.
    op.create_index(
        op.f("ix_messages_customer_id_id"), "messages", ["customer_id", "id"], unique=False
    )
    if op.get_context().dialect.name == "postgresql":
        # A generated column's expression cannot be altered before PostgreSQL 17, so
        # the column is rebuilt (unaccent, statistics target: storage/fts.py); on an
        # existing database this rewrites messages and its GIN index once.
        drop_fts("postgresql", op.execute)
        create_fts("postgresql", op.execute)
        # The planner needs the new statistics now, not at the next autovacuum.
        op.execute("ANALYZE messages")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        drop_fts("postgresql", op.execute)
        for stmt in _PG_0001_SEARCH:
            op.execute(stmt)
    op.drop_index(op.f("ix_messages_customer_id_id"), table_name="messages")
