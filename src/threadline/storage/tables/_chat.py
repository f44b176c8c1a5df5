"""Live chat: the widget's visitors and the events their widgets show."""

from __future__ import annotations

import sqlalchemy as sa

from threadline.storage.tables._types import ID, JSON, UTCDateTime, _created, _id, metadata

# Live chat (the widget, docs/widget.md). A visitor is one browser's chat session on
# one chat inbox. ``key`` is public: it is the value of the visitor's ``chat:`` identity.
# The session token the widget keeps in localStorage is stored as a hash only.
chat_visitors = sa.Table(
    "chat_visitors",
    metadata,
    _id(),
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key", sa.String(32), nullable=False, unique=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    # Set by the visitor's first message (the customer the chat identity resolved to).
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=True, index=True),
    # The conversation the widget shows: a thread hint for the visitor's next message.
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=True),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("email", sa.String(320), nullable=True),  # claimed, for follow-up by email
    sa.Column("external_id", sa.String(255), nullable=True),  # from a signed identity token
    sa.Column("verified", sa.Boolean(), nullable=False, server_default=sa.false()),
    # The newest seq given to one of this visitor's events, and how far each side has read.
    sa.Column("last_seq", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("visitor_read_seq", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("agent_read_seq", sa.Integer(), nullable=False, server_default="0"),
    # Refreshed by the visitor's frames and the widget's keep-alive while a page
    # shows the chat: how the follow-up job tells that the visitor has left.
    sa.Column("last_seen_at", UTCDateTime(), nullable=True),
    _created(),
    # The newest event already sent by email (follow-up mail): never mailed twice.
    sa.Column("mailed_seq", sa.Integer(), nullable=False, server_default="0"),
    # When the last transcript mail was asked for (one per 10 minutes).
    sa.Column("transcript_at", UTCDateTime(), nullable=True),
    # The page origin the visitor last chatted from: the follow-up mail links back to it.
    sa.Column("origin", sa.String(300), nullable=True),
)

# What a visitor's widget shows, in the order it must show it: seq is per visitor,
# given out under the visitor row's lock, so it is also commit order. A reconnecting
# widget asks for every event after the last seq it holds.
chat_events = sa.Table(
    "chat_events",
    metadata,
    sa.Column(
        "visitor_id",
        ID,
        sa.ForeignKey("chat_visitors.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(16), nullable=False),  # message | resolved | csat
    sa.Column(
        "message_id",
        ID,
        sa.ForeignKey("messages.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    sa.Column("client_id", sa.String(64), nullable=True),  # the widget's id for what it sent
    sa.Column("data", JSON, nullable=False, default=dict),
    _created(),
)
