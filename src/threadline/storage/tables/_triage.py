"""Triage: the decisions on conversations and the lexicon admins edit."""

from __future__ import annotations

import sqlalchemy as sa

from threadline.storage.tables._types import ID, JSON, _created, _id, metadata

# Triage (core/triage.py): one row per decision, made on an inbound message or by an
# agent's correction; a conversation's latest row is its decision. Rows are only
# added, never changed, so two messages of one conversation never contend for a row,
# and each correction keeps what it corrected (``changes``: field -> {from, to}):
# the material for tuning the lexicon.
triage_decisions = sa.Table(
    "triage_decisions",
    metadata,
    _id(),
    sa.Column("conversation_id", ID, sa.ForeignKey("conversations.id"), nullable=False),
    # the message it was made on (a correction: the one the corrected decision was)
    sa.Column("message_id", ID, sa.ForeignKey("messages.id"), nullable=True, index=True),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("urgent", sa.Boolean(), nullable=False),
    sa.Column("sensitive", sa.Boolean(), nullable=False),
    sa.Column("recommended_channel", sa.String(16), nullable=True),
    sa.Column("reasons", JSON, nullable=False, default=list),
    # The category is an agent's (corrected here or earlier): later triage keeps it.
    sa.Column("category_by_agent", sa.Boolean(), nullable=False, server_default=sa.false()),
    # A correction: who made it, which decision it corrects, and what changed.
    sa.Column("corrected_by_id", ID, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("corrects_id", ID, sa.ForeignKey("triage_decisions.id"), nullable=True),
    sa.Column("changes", JSON, nullable=True),
    _created(),
    sa.Index(None, "conversation_id", "id"),
)

# The triage lexicon admins edit under Settings (core/lexicon.py's mapping, checked by
# parse_lexicon before it is stored): each save is a new version, the latest is in force,
# none means the lexicon the package ships.
triage_lexicons = sa.Table(
    "triage_lexicons",
    metadata,
    _id(),
    sa.Column("data", JSON, nullable=False),
    sa.Column("created_by_id", ID, sa.ForeignKey("users.id"), nullable=True),
    _created(),
)
