"""The customer timeline: every message and event across every channel, newest first."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.queries.scope import Scope
from threadline.storage.tables import messages, timeline_entries

__all__ = ["customer_timeline", "message_dict"]

_MESSAGE_COLUMNS = (
    messages.c.id,
    messages.c.conversation_id,
    messages.c.direction,
    messages.c.channel,
    messages.c.author_type,
    messages.c.author_id,
    messages.c.text,
    messages.c.status,
    messages.c.error,
    messages.c.recipient,
    messages.c.meta,
    messages.c.created_at,
    messages.c.sent_at,
)


def message_dict(row: Any) -> dict[str, Any]:
    meta = row.meta or {}
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "direction": row.direction,
        "channel": row.channel,
        "author_type": row.author_type,
        "author_id": row.author_id,
        "text": row.text,
        "status": row.status,
        "error": row.error,
        "recipient": row.recipient,
        "sender": meta.get("sender"),
        "warnings": meta.get("warnings", []),
        "created_at": row.created_at,
        "sent_at": row.sent_at,
    }


def customer_timeline(
    conn: Connection,
    customer_id: int,
    *,
    scope: Scope,
    before: int | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """One page of the timeline; pass the last entry's id as ``before`` for the next.

    Out of a full scope, only the entries of conversations in scope and the
    customer-level ones (merges, which belong to no conversation)."""
    q = (
        sa.select(
            timeline_entries.c.id,
            timeline_entries.c.conversation_id,
            timeline_entries.c.kind,
            timeline_entries.c.message_id,
            timeline_entries.c.data,
            timeline_entries.c.created_at,
        )
        .where(timeline_entries.c.customer_id == customer_id)
        .order_by(timeline_entries.c.id.desc())
        .limit(limit)
    )
    if before is not None:
        q = q.where(timeline_entries.c.id < before)
    in_scope = scope.conversation_ids_clause(timeline_entries.c.conversation_id)
    if in_scope is not None:
        q = q.where(sa.or_(timeline_entries.c.conversation_id.is_(None), in_scope))
    entries = conn.execute(q).all()
    ids = [e.message_id for e in entries if e.message_id is not None]
    by_id = {}
    if ids:
        by_id = {
            r.id: message_dict(r)
            for r in conn.execute(sa.select(*_MESSAGE_COLUMNS).where(messages.c.id.in_(ids)))
        }
    return [
        {
            "id": e.id,
            "kind": e.kind,
            "conversation_id": e.conversation_id,
            "created_at": e.created_at,
            "data": e.data,
            "message": by_id.get(e.message_id) if e.message_id is not None else None,
        }
        for e in entries
    ]
