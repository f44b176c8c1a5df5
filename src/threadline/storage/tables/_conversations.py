"""Conversations and what they hold: messages, attachments, the timeline, tags, reads."""

from __future__ import annotations

import sqlalchemy as sa

from threadline.storage.tables._types import ID, JSON, UTCDateTime, _created, _id, metadata

conversations = sa.Table(
    "conversations",
    metadata,
    _id(),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id"), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("priority", sa.String(16), nullable=False, default="normal"),
    sa.Column("category", sa.String(64), nullable=True),
    sa.Column("assignee_id", ID, sa.ForeignKey("users.id"), nullable=True, index=True),
    sa.Column("team", sa.String(64), nullable=True),
    sa.Column("escalation_level", sa.SmallInteger(), nullable=False, default=1),
    sa.Column("subject", sa.String(500), nullable=True),
    sa.Column("subject_key", sa.String(500), nullable=False, default=""),
    sa.Column("last_inbound_channel", sa.String(16), nullable=True),
    sa.Column("last_inbound_at", UTCDateTime(), nullable=True),
    sa.Column("last_activity_at", UTCDateTime(), nullable=False),
    sa.Column("resolved_at", UTCDateTime(), nullable=True),
    _created(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    # Assigned to a team (its view in the workspace); `team` above is the unused 0001 text.
    sa.Column("team_id", ID, sa.ForeignKey("teams.id"), nullable=True, index=True),
    sa.Column("snoozed_until", UTCDateTime(), nullable=True),  # status snoozed: wakes then
    # The oldest customer message no agent has answered yet; None when nobody is waiting.
    sa.Column("waiting_since", UTCDateTime(), nullable=True),
    # When the waiting customer is owed a first answer (core/sla.py); None: nobody waits.
    sa.Column("first_response_due_at", UTCDateTime(), nullable=True),
    # The SLA clocks (core/sla.py, sla_policies): a customer's message after an agent's
    # answer is owed a next response; the conversation is owed a resolution from its start
    # (or reopening). None: the clock is not running.
    sa.Column("first_response_at", UTCDateTime(), nullable=True),  # an agent's first answer
    sa.Column("next_response_due_at", UTCDateTime(), nullable=True),
    sa.Column("resolution_due_at", UTCDateTime(), nullable=True),
    # Pending on the customer stops the clocks: the due times above stay as they were at
    # paused_at and move on by what was left when the conversation leaves pending.
    sa.Column("paused_at", UTCDateTime(), nullable=True),
    sa.Column("paused_seconds", sa.Integer(), nullable=False, server_default="0"),  # in all
    # For time_passed rules (hours in status, hours since the agent): when the status
    # last changed (None: not since it was created) and an agent's last public reply.
    sa.Column("status_changed_at", UTCDateTime(), nullable=True),
    sa.Column("last_agent_at", UTCDateTime(), nullable=True),
    sa.Index(None, "customer_id", "last_activity_at"),
    sa.Index(None, "status", "last_activity_at"),
    sa.Index(None, "status", "waiting_since"),
    sa.Index(None, "status", "team_id", "assignee_id", "inbox_id"),  # the inbox's counts
    sa.Index(None, "status", "first_response_due_at"),
    sa.Index(None, "status", "next_response_due_at"),
    sa.Index(None, "status", "resolution_due_at"),
    sa.Index(None, "status", "status_changed_at"),  # the time_passed sweep's candidates
    sa.Index(None, "status", "last_agent_at"),
    sa.Index(None, "status", "last_inbound_at"),
)

conversation_tags = sa.Table(
    "conversation_tags",
    metadata,
    sa.Column(
        "conversation_id",
        ID,
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("tag", sa.String(50), primary_key=True, index=True),
)

# How far each agent has read each conversation: the inbox's unread marker.
conversation_reads = sa.Table(
    "conversation_reads",
    metadata,
    sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "conversation_id",
        ID,
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    sa.Column("read_at", UTCDateTime(), nullable=False),
)

messages = sa.Table(
    "messages",
    metadata,
    _id(),
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id"), nullable=True),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("author_type", sa.String(16), nullable=False),
    sa.Column("author_id", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("full_text", sa.Text(), nullable=True),
    sa.Column("html", sa.Text(), nullable=True),
    # email Message-ID, Twilio MessageSid, wamid…: what threading and status callbacks match on
    sa.Column("provider_message_id", sa.String(500), nullable=True, index=True),
    sa.Column("recipient", sa.String(340), nullable=True),  # outbound: the identity sent to
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("meta", JSON, nullable=False, default=dict),
    _created(),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
    sa.Index(None, "conversation_id", "id"),
    sa.Index(None, "customer_id", "id"),
)

attachments = sa.Table(
    "attachments",
    metadata,
    _id(),
    sa.Column(
        "message_id",
        ID,
        sa.ForeignKey("messages.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("filename", sa.String(500), nullable=False),
    sa.Column("content_type", sa.String(200), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("content_id", sa.String(500), nullable=True),
    sa.Column("inline", sa.Boolean(), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("data", sa.LargeBinary(), nullable=True),  # None when stored on disk by sha256
)

timeline_entries = sa.Table(
    "timeline_entries",
    metadata,
    _id(),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("message_id", ID, sa.ForeignKey("messages.id"), nullable=True),
    sa.Column("data", JSON, nullable=False, default=dict),
    _created(),
    sa.Index(None, "customer_id", "id"),
    sa.Index(None, "conversation_id", "id"),
    sa.Index(None, "message_id"),
)
