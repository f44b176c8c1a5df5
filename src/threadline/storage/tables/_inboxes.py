"""Inboxes and what crosses them at the edge: receipts, IMAP positions, the sandbox outbox."""

from __future__ import annotations

import sqlalchemy as sa

from threadline.storage.tables._types import ID, JSON, UTCDateTime, _created, _id, metadata

inboxes = sa.Table(
    "inboxes",
    metadata,
    _id(),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("address", sa.String(320), nullable=False),  # email address, phone, page id…
    sa.Column("config", JSON, nullable=False, default=dict),
    _created(),
    sa.UniqueConstraint("channel", "address"),
)

inbound_receipts = sa.Table(
    "inbound_receipts",
    metadata,
    _id(),
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id"), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),  # which parser reads the payload
    sa.Column("provider_message_id", sa.String(500), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # processed | ignored | quarantined
    sa.Column("error", sa.Text(), nullable=True),
    sa.Column("payload", sa.LargeBinary(), nullable=False),
    # A payload past bus.PROCESS_BYTES lives in the file store (storage/files.py)
    # under this SHA-256, and ``payload`` is empty: written into the row, one
    # 36 MiB mail held up the writer, and every message queued behind it, 150 ms.
    sa.Column("payload_file", sa.String(64), nullable=True),
    sa.Column("context", JSON, nullable=False, default=dict),  # envelope, headers, URL
    sa.Column("message_id", ID, sa.ForeignKey("messages.id"), nullable=True),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Column("processed_at", UTCDateTime(), nullable=True),
    sa.Column("replays", sa.Integer(), nullable=False, default=0),
    sa.UniqueConstraint("inbox_id", "provider_message_id"),
    sa.Index(None, "status", "id"),
)

mailbox_state = sa.Table(
    "mailbox_state",
    metadata,
    sa.Column("inbox_id", ID, sa.ForeignKey("inboxes.id"), primary_key=True),
    sa.Column("folder", sa.String(200), primary_key=True),
    sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
    sa.Column("last_uid", sa.BigInteger(), nullable=False),
)

sandbox_outbox = sa.Table(
    "sandbox_outbox",
    metadata,
    _id(),
    sa.Column("provider", sa.String(32), nullable=False),  # twilio | meta | telegram | email
    sa.Column("recipient", sa.String(340), nullable=False),
    sa.Column("provider_message_id", sa.String(200), nullable=False, unique=True),
    sa.Column("request", JSON, nullable=False),  # what the provider's API received
    sa.Column("text", sa.Text(), nullable=True),
    _created(),
    sa.Index(None, "recipient", "id"),
)
