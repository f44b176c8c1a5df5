"""Full-text search over messages: FTS5 on SQLite, tsvector on PostgreSQL.

Results come newest first. A help desk search is "where did we talk about
this", and ordering by rank over a million rows would cost a full scan of
every match; by id, both engines stop after one page.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.storage.tables import conversations, messages

__all__ = ["search_messages"]

_WORD = re.compile(r"\w+", re.UNICODE)


def _fts5_query(text: str) -> str:
    """Every word must appear; quoting each one keeps FTS5 syntax out of user input."""
    words = _WORD.findall(text)
    return " ".join(f'"{w}"' for w in words[:16])


def search_messages(
    conn: Connection,
    text: str,
    *,
    customer_id: int | None = None,
    channel: str | None = None,
    limit: int = 20,
    before: int | None = None,
) -> list[dict[str, Any]]:
    if not _WORD.search(text):
        return []
    cols = (
        messages.c.id,
        messages.c.conversation_id,
        messages.c.customer_id,
        messages.c.channel,
        messages.c.direction,
        messages.c.text,
        messages.c.created_at,
        conversations.c.subject,
        conversations.c.status,
    )
    q = sa.select(*cols).join(conversations, conversations.c.id == messages.c.conversation_id)
    if conn.dialect.name == "sqlite":
        fts = sa.table("message_fts", sa.column("rowid"))
        match = sa.select(fts.c.rowid).where(sa.text("message_fts MATCH :q"))
        q = q.where(messages.c.id.in_(match)).params(q=_fts5_query(text))
    else:
        q = q.where(
            sa.text("messages.search_vector @@ websearch_to_tsquery('simple', :q)").bindparams(
                q=text
            )
        )
    if customer_id is not None:
        q = q.where(messages.c.customer_id == customer_id)
    if channel is not None:
        q = q.where(messages.c.channel == channel)
    if before is not None:
        q = q.where(messages.c.id < before)
    rows = conn.execute(q.order_by(messages.c.id.desc()).limit(limit)).all()
    return [
        {
            "message_id": r.id,
            "conversation_id": r.conversation_id,
            "customer_id": r.customer_id,
            "channel": r.channel,
            "direction": r.direction,
            "snippet": _snippet(r.text, text),
            "created_at": r.created_at,
            "subject": r.subject,
            "status": r.status,
        }
        for r in rows
    ]


def _snippet(body: str, query: str, width: int = 160) -> str:
    """The text around the first matching word, computed here so both databases agree."""
    lowered = body.lower()
    pos = min((i for w in _WORD.findall(query.lower()) if (i := lowered.find(w)) >= 0), default=0)
    start = max(pos - width // 3, 0)
    piece = body[start : start + width].replace("\n", " ")
    return ("…" if start else "") + piece + ("…" if start + width < len(body) else "")
