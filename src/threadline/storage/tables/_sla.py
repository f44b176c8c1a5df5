"""Service levels: the targets admins set and the clocks running on conversations."""

from __future__ import annotations

import sqlalchemy as sa

from threadline.storage.tables._types import ID, UTCDateTime, _id, metadata

# The response and resolution targets per channel and priority (core/sla.py), seeded by
# migration 0014 with the norms of the issue and edited by admins. No row: no clock.
sla_policies = sa.Table(
    "sla_policies",
    metadata,
    _id(),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("priority", sa.String(16), nullable=False),  # low | normal | high | urgent
    sa.Column("kind", sa.String(16), nullable=False),  # first_response | next_response | …
    sa.Column("seconds", sa.Integer(), nullable=False),
    sa.Column("business", sa.Boolean(), nullable=False),  # open hours, or the wall clock
    sa.Column("warn_percent", sa.SmallInteger(), nullable=False, server_default="80"),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.UniqueConstraint("channel", "priority", "kind"),
)

# A response target running on a conversation (core/sla_clock.py): one row per
# clock kind while it runs, gone when it stops (answered, resolved, merged away).
# Its warning and breach timers are jobs; a timer that fires acts only if the row
# still holds the due time it was scheduled for.
sla_clocks = sa.Table(
    "sla_clocks",
    metadata,
    sa.Column(
        "conversation_id",
        ID,
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("kind", sa.String(32), primary_key=True),  # first_response | next_response | …
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("due_at", UTCDateTime(), nullable=False),
    sa.Column("warn_at", UTCDateTime(), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),  # running | warning | breached
    sa.Column("warned_at", UTCDateTime(), nullable=True),
    sa.Column("breached_at", UTCDateTime(), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)
