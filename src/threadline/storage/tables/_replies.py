"""Replies the desk sends on its own: redirects to a verified channel, off-hours notes."""

from __future__ import annotations

import sqlalchemy as sa

from threadline.storage.tables._types import ID, UTCDateTime, _created, _id, metadata

# Account questions from social DMs redirected to a verified channel (core/redirect.py,
# actions/redirects.py): one row per redirect reply. Its link's token signs the id and
# the expiry; the email proof's one-time code is kept only as its SHA-256.
redirects = sa.Table(
    "redirects",
    metadata,
    _id(),
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),  # the DM's
    sa.Column("identity", sa.String(300), nullable=False),  # the social identity, kind:value
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id", ondelete="SET NULL"), nullable=True),
    # the DM that asked: one redirect per message, whatever runs the job twice
    sa.Column("message_id", ID, sa.ForeignKey("messages.id"), nullable=False, unique=True),
    sa.Column("reply_id", ID, sa.ForeignKey("messages.id"), nullable=True),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    # continuing by email: the address typed, its code's hash, how many mails went
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("email_code_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("email_expires_at", UTCDateTime(), nullable=True),
    sa.Column("email_sent_at", UTCDateTime(), nullable=True),
    sa.Column("emails_sent", sa.Integer(), nullable=False, default=0),
    # continuing in the chat: the widget visitor bound to it
    sa.Column(
        "visitor_id",
        ID,
        sa.ForeignKey("chat_visitors.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
    sa.Column("proved_at", UTCDateTime(), nullable=True),
    sa.Column("proved_by", sa.String(16), nullable=True),  # email | chat
    sa.Column("proved_customer_id", ID, sa.ForeignKey("customers.id"), nullable=True),
    _created(),
    sa.Index(None, "conversation_id", "created_at"),
)

# Automatic replies sent (or decided against) per conversation: at most one off-hours
# acknowledgement per conversation per closed period, the period named by the opening
# that ends it (core/off_hours.py). The unique key makes a job that runs twice send once.
auto_replies = sa.Table(
    "auto_replies",
    metadata,
    _id(),
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # off_hours
    sa.Column("period", UTCDateTime(), nullable=False),  # when the closed period ends
    sa.Column("message_id", ID, sa.ForeignKey("messages.id"), nullable=True),  # None: not sent
    sa.Column("reason", sa.String(200), nullable=True),  # why it was not sent
    _created(),
    sa.UniqueConstraint("conversation_id", "kind", "period"),
    sa.Index(None, "kind", "period"),
)
