"""Conversation lists and details for the API and the agent UI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.queries.scope import Scope
from threadline.queries.timeline import message_dict
from threadline.storage.tables import conversations, customers, messages

__all__ = ["conversation_detail", "conversation_messages", "list_conversations"]

_COLUMNS = (
    conversations.c.id,
    conversations.c.customer_id,
    customers.c.name.label("customer_name"),
    conversations.c.status,
    conversations.c.priority,
    conversations.c.category,
    conversations.c.assignee_id,
    conversations.c.team,
    conversations.c.escalation_level,
    conversations.c.subject,
    conversations.c.last_inbound_channel,
    conversations.c.last_inbound_at,
    conversations.c.last_activity_at,
    conversations.c.resolved_at,
    conversations.c.created_at,
)


def _as_dict(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


def list_conversations(
    conn: Connection,
    *,
    scope: Scope,
    status: str | None = None,
    assignee_id: int | None = None,
    unassigned: bool = False,
    customer_id: int | None = None,
    channel: str | None = None,
    priority: str | None = None,
    cursor: tuple[datetime, int] | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Most recent activity first. ``cursor`` is the last row's (last_activity_at, id):
    the page after it, on the same order, so ties are neither repeated nor skipped."""
    q = sa.select(*_COLUMNS).join(customers, customers.c.id == conversations.c.customer_id)
    if (in_scope := scope.conversation_clause()) is not None:
        q = q.where(in_scope)
    if status is not None:
        q = q.where(conversations.c.status == status)
    if assignee_id is not None:
        q = q.where(conversations.c.assignee_id == assignee_id)
    if unassigned:
        q = q.where(conversations.c.assignee_id.is_(None))
    if customer_id is not None:
        q = q.where(conversations.c.customer_id == customer_id)
    if channel is not None:
        q = q.where(conversations.c.last_inbound_channel == channel)
    if priority is not None:
        q = q.where(conversations.c.priority == priority)
    if cursor is not None:
        at, last_id = cursor
        q = q.where(
            sa.or_(
                conversations.c.last_activity_at < at,
                sa.and_(conversations.c.last_activity_at == at, conversations.c.id < last_id),
            )
        )
    q = q.order_by(conversations.c.last_activity_at.desc(), conversations.c.id.desc()).limit(limit)
    return [_as_dict(r) for r in conn.execute(q)]


def conversation_detail(
    conn: Connection, conversation_id: int, *, scope: Scope
) -> dict[str, Any] | None:
    q = (
        sa.select(*_COLUMNS)
        .join(customers, customers.c.id == conversations.c.customer_id)
        .where(conversations.c.id == conversation_id)
    )
    if (in_scope := scope.conversation_clause()) is not None:
        q = q.where(in_scope)
    row = conn.execute(q).first()
    return None if row is None else _as_dict(row)


def conversation_messages(
    conn: Connection,
    conversation_id: int,
    *,
    scope: Scope,
    after: int | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    q = (
        sa.select(messages)
        .where(messages.c.conversation_id == conversation_id)
        .order_by(messages.c.id)
        .limit(limit)
    )
    if after is not None:
        q = q.where(messages.c.id > after)
    if (in_scope := scope.conversation_ids_clause(messages.c.conversation_id)) is not None:
        q = q.where(in_scope)
    return [message_dict(r) for r in conn.execute(q)]
