"""Customers, the identities that find them, and their merges."""

from __future__ import annotations

import sqlalchemy as sa

from threadline.storage.tables._types import ID, JSON, UTCDateTime, _created, _id, metadata

customers = sa.Table(
    "customers",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=True),
    # A merged customer keeps its row so the merge can be undone.
    sa.Column("merged_into_id", ID, sa.ForeignKey("customers.id"), nullable=True),
    _created(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    # Agent-editable facts ("plan": "pro"): string keys and values, bounded by the action.
    sa.Column("attributes", JSON, nullable=False, default=dict, server_default="{}"),
)

identities = sa.Table(
    "identities",
    metadata,
    _id(),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("value", sa.String(320), nullable=False),
    sa.Column("verified", sa.Boolean(), nullable=False),
    _created(),
    sa.UniqueConstraint("kind", "value"),
)

merge_suggestions = sa.Table(
    "merge_suggestions",
    metadata,
    _id(),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("other_customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("identity", sa.String(340), nullable=False),
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open | merged | dismissed
    _created(),
)

customer_merges = sa.Table(
    "customer_merges",
    metadata,
    _id(),
    sa.Column("source_id", ID, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("target_id", ID, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("moved", JSON, nullable=False),  # the rows moved, so an unmerge moves exactly them
    sa.Column("actor", sa.String(200), nullable=False),
    _created(),
    sa.Column("undone_at", UTCDateTime(), nullable=True),
)
