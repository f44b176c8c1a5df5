"""Assignment: what each agent takes, how each inbox hands out, and who waits."""

from __future__ import annotations

import sqlalchemy as sa

from threadline.storage.tables._types import ID, JSON, UTCDateTime, _created, metadata

# Assignment (core/assignment.py): what each agent takes, and how each inbox hands out.
# An agent without a row takes the default capacity, has no skills and no shifts
# (always on shift); an inbox without a row is assigned by hand.
agent_assignment = sa.Table(
    "agent_assignment",
    metadata,
    sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("capacity", JSON, nullable=False, default=dict),  # {"chat": 3, "email": 20}
    sa.Column("skills", JSON, nullable=False, default=list),  # ["billing", "german"]
    sa.Column("shifts", JSON, nullable=True),  # core/shifts.py's schedule; None: always
    sa.Column("last_assigned_at", UTCDateTime(), nullable=True),  # round robin's order
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

inbox_assignment = sa.Table(
    "inbox_assignment",
    metadata,
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("strategy", sa.String(16), nullable=False),  # manual | round_robin | load_balanced
    sa.Column("sticky", sa.Boolean(), nullable=False, default=True),
    sa.Column("skills", JSON, nullable=False, default=list),  # every agent must have these
    sa.Column("level2_team_id", ID, sa.ForeignKey("teams.id", ondelete="SET NULL"), nullable=True),
    sa.Column("batch_times", JSON, nullable=False, default=list),  # ["09:00", "13:00"]: email
    sa.Column("batch_timezone", sa.String(64), nullable=False, default="UTC"),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

# Conversations waiting for an agent: due now, or at the next email batch. The
# assign job and the sweep (jobs/assignment.py) take them; the reason says why
# nobody took them yet, for the inbox and the timeline.
assignment_queue = sa.Table(
    "assignment_queue",
    metadata,
    sa.Column(
        "conversation_id",
        ID,
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("due_at", UTCDateTime(), nullable=False, index=True),
    sa.Column("reason", sa.String(200), nullable=True),
    sa.Column("tried_at", UTCDateTime(), nullable=True),
    _created(),
)
