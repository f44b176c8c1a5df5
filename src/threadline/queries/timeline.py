"""The customer timeline: every message and event across every channel, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.queries.scope import Scope
from threadline.storage.tables import attachments, messages, timeline_entries, users

__all__ = [
    "CONVERSATION_PAGE",
    "conversation_timeline",
    "customer_timeline",
    "message_dict",
    "message_entry",
    "timeline_entry",
]

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
        "auto_reply": meta.get("auto_reply"),  # "off_hours": the system's acknowledgement
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


# -- one conversation, for the workspace ------------------------------------------------
_ENTRY_COLUMNS = (
    timeline_entries.c.id,
    timeline_entries.c.customer_id,
    timeline_entries.c.conversation_id,
    timeline_entries.c.kind,
    timeline_entries.c.message_id,
    timeline_entries.c.data,
    timeline_entries.c.created_at,
)
CONVERSATION_PAGE = 500  # entries the conversation page shows; older ones load on demand


def _enriched(conn: Connection, entries: Sequence[Any]) -> list[dict[str, Any]]:
    """Entries with their messages, the messages' attachments and their authors' names."""
    ids = [e.message_id for e in entries if e.message_id is not None]
    by_id: dict[int, dict[str, Any]] = {}
    if ids:
        rows = conn.execute(
            sa.select(*_MESSAGE_COLUMNS, messages.c.html.isnot(None).label("has_html")).where(
                messages.c.id.in_(ids)
            )
        ).all()
        by_id = {r.id: {**message_dict(r), "has_html": bool(r.has_html)} for r in rows}
        for a in conn.execute(
            sa.select(
                attachments.c.id,
                attachments.c.message_id,
                attachments.c.filename,
                attachments.c.content_type,
                attachments.c.size,
            )
            .where(attachments.c.message_id.in_(ids), attachments.c.inline.is_(False))
            .order_by(attachments.c.id)
        ):
            by_id[a.message_id].setdefault("attachments", []).append(dict(a._mapping))
    authors = {m["author_id"] for m in by_id.values() if m["author_id"] is not None}
    names = {}
    if authors:
        names = dict(
            conn.execute(sa.select(users.c.id, users.c.name).where(users.c.id.in_(authors))).all()
        )
    for m in by_id.values():
        m["author_name"] = names.get(m["author_id"])
        m.setdefault("attachments", [])
    return [
        {
            "id": e.id,
            "kind": e.kind,
            "customer_id": e.customer_id,
            "conversation_id": e.conversation_id,
            "created_at": e.created_at,
            "data": e.data or {},
            "message": by_id.get(e.message_id) if e.message_id is not None else None,
        }
        for e in entries
    ]


def conversation_timeline(
    conn: Connection,
    conversation_id: int,
    *,
    before: int | None = None,
    limit: int = CONVERSATION_PAGE,
) -> list[dict[str, Any]]:
    """The newest ``limit`` entries of one conversation, oldest first. The caller has
    checked the conversation is in scope (queries/scope.access_conversation)."""
    q = (
        sa.select(*_ENTRY_COLUMNS)
        .where(timeline_entries.c.conversation_id == conversation_id)
        .order_by(timeline_entries.c.id.desc())
        .limit(min(limit, CONVERSATION_PAGE))
    )
    if before is not None:
        q = q.where(timeline_entries.c.id < before)
    return list(reversed(_enriched(conn, conn.execute(q).all())))


def timeline_entry(conn: Connection, entry_id: int) -> dict[str, Any] | None:
    """One entry, shaped as conversation_timeline shapes each (the realtime push)."""
    rows = conn.execute(sa.select(*_ENTRY_COLUMNS).where(timeline_entries.c.id == entry_id)).all()
    return _enriched(conn, rows)[0] if rows else None


def message_entry(conn: Connection, message_id: int) -> dict[str, Any] | None:
    """The timeline entry that shows a message (its status changed)."""
    rows = conn.execute(
        sa.select(*_ENTRY_COLUMNS)
        .where(
            timeline_entries.c.message_id == message_id,
            timeline_entries.c.kind.in_(("message", "note")),
        )
        .order_by(timeline_entries.c.id)
        .limit(1)
    ).all()
    return _enriched(conn, rows)[0] if rows else None
