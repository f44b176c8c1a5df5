"""Routing rules, every version of each, and the time_passed rules' last firings."""

from __future__ import annotations

import sqlalchemy as sa

from threadline.storage.tables._types import ID, JSON, UTCDateTime, _created, _id, metadata

# Routing rules (core/rules.py; docs/rules.md). Every edit is a new version, kept
# in rule_versions, so a timeline entry can name the version that ran; `rules`
# holds the current one. A deleted rule keeps its row (deleted_at) for the same reason.
rules = sa.Table(
    "rules",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
    # events, conditions, actions and stop, as parse_rule reads them
    sa.Column("definition", JSON, nullable=False),
    _created(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("deleted_at", UTCDateTime(), nullable=True),
    sa.Index(None, "deleted_at", "position"),
)

rule_versions = sa.Table(
    "rule_versions",
    metadata,
    sa.Column("rule_id", ID, sa.ForeignKey("rules.id"), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("definition", JSON, nullable=False),
    _created(),
    sa.Column("created_by", ID, sa.ForeignKey("users.id"), nullable=True),
)

# A time_passed rule's last firing on a conversation (actions/rule_firings.py): it
# fires again only once the conversation changed after this (a message, a status).
rule_firings = sa.Table(
    "rule_firings",
    metadata,
    sa.Column("rule_id", ID, sa.ForeignKey("rules.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "conversation_id",
        ID,
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    sa.Column("fired_at", UTCDateTime(), nullable=False),
)
