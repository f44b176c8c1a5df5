"""Voice: calls, and the tasks (callbacks) they leave for agents."""

from __future__ import annotations

import sqlalchemy as sa

from threadline.storage.tables._types import ID, JSON, UTCDateTime, _created, _id, metadata

calls = sa.Table(
    "calls",
    metadata,
    _id(),
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id"), nullable=True),  # None: logged by hand
    sa.Column("provider_call_id", sa.String(64), nullable=False),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=True),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("answered", sa.Boolean(), nullable=True),
    sa.Column("duration_seconds", sa.Integer(), nullable=True),
    sa.Column("recording_url", sa.Text(), nullable=True),
    sa.Column("recording_seconds", sa.Integer(), nullable=True),
    sa.Column("transcription", sa.Text(), nullable=True),
    sa.Column("voicemail", sa.Boolean(), nullable=False),
    sa.Column("notes", sa.Text(), nullable=True),  # agents logging a call by hand
    sa.Column("logged_by", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("timeline_entry_id", ID, sa.ForeignKey("timeline_entries.id"), nullable=True),
    _created(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("inbox_id", "provider_call_id"),
)

tasks = sa.Table(
    "tasks",
    metadata,
    _id(),
    sa.Column("kind", sa.String(32), nullable=False),  # callback | …
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=False, index=True),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("call_id", ID, sa.ForeignKey("calls.id"), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),  # open | done | cancelled
    sa.Column("due_at", UTCDateTime(), nullable=False),
    sa.Column("assignee_id", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("data", JSON, nullable=False, default=dict),
    _created(),
    sa.Column("done_at", UTCDateTime(), nullable=True),
    sa.Index(None, "status", "due_at"),
)
