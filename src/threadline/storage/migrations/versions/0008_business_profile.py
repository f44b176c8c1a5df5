"""business profile: one row admins edit under Settings

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import threadline.storage.tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # No row is written here: until an admin saves the profile, the
    # THREADLINE_BUSINESS_* settings stay in force (queries/profile.py).
    op.create_table(
        "business_profile",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False),
        sa.Column("email_signature", sa.Text(), nullable=True),
        sa.Column(
            "updated_at", threadline.storage.tables.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("updated_by", _ID, nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_business_profile_one_row")),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_business_profile_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_profile")),
    )


def downgrade() -> None:
    op.drop_table("business_profile")
