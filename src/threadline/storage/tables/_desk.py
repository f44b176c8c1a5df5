"""The desk's own records: the business profile, the job queue, the audit log."""

from __future__ import annotations

import sqlalchemy as sa

from threadline.storage.tables._types import ID, JSON, UTCDateTime, _created, _id, metadata

# The business profile admins edit under Settings: one row, id 1, or none yet
# (then queries/profile.py answers with the THREADLINE_BUSINESS_* settings).
business_profile = sa.Table(
    "business_profile",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("email_signature", sa.Text(), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.CheckConstraint("id = 1", name="one_row"),
)

jobs = sa.Table(
    "jobs",
    metadata,
    _id(),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # queued | running | done | failed
    sa.Column("run_at", UTCDateTime(), nullable=False),
    sa.Column("locked_until", UTCDateTime(), nullable=True),
    sa.Column("attempts", sa.Integer(), nullable=False, default=0),
    sa.Column("max_attempts", sa.Integer(), nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=True, unique=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    _created(),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Index(None, "status", "run_at"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("data", JSON, nullable=False, default=dict),
    _created(),
)
