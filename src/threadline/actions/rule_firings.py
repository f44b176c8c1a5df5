"""A time_passed rule fires once per state of a conversation.

A sweep finds "pending for 72 hours" true every minute after the 72nd hour; the rule
must act once, not every minute. As Zendesk asks of an automation, it fires again
only once the conversation changed after its last firing: a customer's message, an
agent's reply, or a status change (the latest of last_inbound_at, last_agent_at and
status_changed_at; queries/rules_sweep.py reads the same three). What the rule itself
changes, in its own unit of work, is not a later change: its time is the firing's.

The claim is one upsert whose WHERE only lets a stale firing be replaced. On
PostgreSQL a second worker's upsert on the same row waits for the first to commit and
then finds the firing fresh; on SQLite the single writer does the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from threadline.storage.db import Tx
from threadline.storage.tables import as_utc, conversations, rule_firings

__all__ = ["claim_firings", "last_change"]


def last_change(tx: Tx, conversation_id: int) -> datetime | None:
    """When the conversation last changed as far as firings go; None if it is gone."""
    row = tx.conn.execute(
        sa.select(
            conversations.c.created_at,
            conversations.c.status_changed_at,
            conversations.c.last_inbound_at,
            conversations.c.last_agent_at,
        ).where(conversations.c.id == conversation_id)
    ).first()
    if row is None:
        return None
    times = [as_utc(t) for t in (row.status_changed_at or row.created_at, *row[2:])]
    return max(t for t in times if t is not None)


def claim_firings(tx: Tx, conversation_id: int, rule_ids: Iterable[int]) -> set[int]:
    """The rules of ``rule_ids`` that may fire on the conversation now, recorded as
    fired; the others already fired since its last change."""
    changed = last_change(tx, conversation_id)
    if changed is None:
        return set()
    claimed: set[int] = set()
    insert: Any = postgresql.insert if tx.conn.dialect.name == "postgresql" else sqlite.insert
    for rule_id in sorted(set(rule_ids)):
        stmt = insert(rule_firings).values(
            rule_id=rule_id, conversation_id=conversation_id, fired_at=tx.now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[rule_firings.c.rule_id, rule_firings.c.conversation_id],
            set_={"fired_at": stmt.excluded.fired_at},
            where=rule_firings.c.fired_at < changed,
        ).returning(rule_firings.c.rule_id)
        if tx.conn.execute(stmt).first() is not None:
            claimed.add(rule_id)
    return claimed
