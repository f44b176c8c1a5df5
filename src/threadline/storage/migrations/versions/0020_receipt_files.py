"""inbound_receipts.payload_file: large payloads kept in the file store

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ALTER TABLE … ADD COLUMN on both databases: batch mode could copy the
    # table, and this one holds every payload ever received.
    op.add_column(
        "inbound_receipts", sa.Column("payload_file", sa.String(length=64), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("inbound_receipts") as batch:
        batch.drop_column("payload_file")
