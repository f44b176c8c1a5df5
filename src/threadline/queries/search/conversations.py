"""Conversations found by the words of their subject, or by their number ("#4417").

The subject is matched in ``subject_key`` (continuity's normalized subject:
lower case, without "Re:" and ticket references), so case folds alike on both
databases; the hit shows the subject as it was written.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.queries.scope import Scope
from threadline.queries.search.terms import Terms, begins_words, like_patterns, segments
from threadline.queries.search.walk import decided_page
from threadline.storage.tables import conversations, customers, users

__all__ = ["search_conversations"]

_NUMBER = re.compile(r"#?(\d{1,18})")

_COLUMNS = (
    conversations.c.id,
    conversations.c.customer_id,
    customers.c.name.label("customer_name"),
    conversations.c.subject,
    conversations.c.subject_key,
    conversations.c.status,
    conversations.c.priority,
    conversations.c.assignee_id,
    users.c.name.label("assignee_name"),
    conversations.c.last_inbound_channel,
    conversations.c.last_activity_at,
)


def search_conversations(
    conn: Connection,
    terms: Terms,
    *,
    scope: Scope,
    channel: str | None = None,
    status: str | None = None,
    customer_id: int | None = None,
    before: int | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """Newest first. ``channel`` is the channel the customer last wrote on, as in
    the conversation list; ``segments`` is the subject, highlighted."""
    number = int(m.group(1)) if (m := _NUMBER.fullmatch(terms.text)) else None
    either = []
    if patterns := like_patterns(terms):
        subject = conversations.c.subject_key
        either.append(
            sa.and_(*(sa.or_(*(subject.like(p, escape="\\") for p in word)) for word in patterns))
        )
    if number is not None:
        either.append(conversations.c.id == number)
    if not either:
        return []
    q = (
        sa.select(*_COLUMNS)
        .join(customers, customers.c.id == conversations.c.customer_id)
        .outerjoin(users, users.c.id == conversations.c.assignee_id)
        .where(sa.or_(*either))
    )
    if (in_scope := scope.conversation_clause()) is not None:
        q = q.where(in_scope)
    if channel is not None:
        q = q.where(conversations.c.last_inbound_channel == channel)
    if status is not None:
        q = q.where(conversations.c.status == status)
    if customer_id is not None:
        q = q.where(conversations.c.customer_id == customer_id)
    rows = decided_page(
        conn,
        q,
        conversations.c.id,
        keep=lambda r: r.id == number or begins_words(r.subject_key, terms),
        before=before,
        limit=limit,
    )
    return [
        {
            **{k: v for k, v in r._mapping.items() if k != "subject_key"},
            "segments": segments(r.subject, terms),
        }
        for r in rows
    ]
