"""Agents changing a conversation: status, priority, assignee."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from threadline.actions.errors import ActionError, NotFound
from threadline.actions.timeline import add_entry
from threadline.core.conversation import InvalidTransition, check_transition
from threadline.core.events import ConversationChanged
from threadline.core.model import ConversationStatus
from threadline.storage.db import Tx
from threadline.storage.tables import conversations, users

__all__ = ["PRIORITIES", "change_status", "update_conversation"]

PRIORITIES = ("low", "normal", "high", "urgent")


def _load(tx: Tx, conversation_id: int) -> sa.Row[Any]:
    row = tx.conn.execute(
        sa.select(conversations).where(conversations.c.id == conversation_id)
    ).first()
    if row is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return row


def change_status(
    tx: Tx, conversation_id: int, status: ConversationStatus, *, actor_id: int | None
) -> bool:
    row = _load(tx, conversation_id)
    current = ConversationStatus(row.status)
    if current is status:
        return False
    try:
        check_transition(current, status)
    except InvalidTransition as exc:
        raise ActionError(str(exc)) from exc
    tx.conn.execute(
        conversations.update()
        .where(conversations.c.id == conversation_id)
        .values(
            status=status.value,
            resolved_at=tx.now if status is ConversationStatus.RESOLVED else None,
            updated_at=tx.now,
        )
    )
    add_entry(
        tx,
        customer_id=row.customer_id,
        conversation_id=conversation_id,
        kind="status_changed",
        data={"from": current.value, "to": status.value, "by": actor_id},
    )
    return True


def update_conversation(
    tx: Tx,
    conversation_id: int,
    *,
    actor_id: int | None,
    status: ConversationStatus | None = None,
    priority: str | None = None,
    assignee_id: int | None = None,
    unassign: bool = False,
) -> tuple[str, ...]:
    """Apply the changes asked for; returns the names of those that changed anything."""
    row = _load(tx, conversation_id)
    changed: list[str] = []
    if status is not None and change_status(tx, conversation_id, status, actor_id=actor_id):
        changed.append("status")
    values: dict[str, Any] = {}
    if priority is not None and priority != row.priority:
        if priority not in PRIORITIES:
            raise ActionError(f"priority must be one of {', '.join(PRIORITIES)}")
        values["priority"] = priority
        add_entry(
            tx,
            customer_id=row.customer_id,
            conversation_id=conversation_id,
            kind="priority_changed",
            data={"from": row.priority, "to": priority, "by": actor_id},
        )
    new_assignee = None if unassign else assignee_id
    if (unassign or assignee_id is not None) and new_assignee != row.assignee_id:
        if new_assignee is not None:
            exists = tx.conn.execute(sa.select(users.c.id).where(users.c.id == new_assignee))
            if exists.first() is None:
                raise ActionError(f"user {new_assignee} does not exist")
        values["assignee_id"] = new_assignee
        add_entry(
            tx,
            customer_id=row.customer_id,
            conversation_id=conversation_id,
            kind="assigned",
            data={"from": row.assignee_id, "to": new_assignee, "by": actor_id},
        )
    if values:
        tx.conn.execute(
            conversations.update()
            .where(conversations.c.id == conversation_id)
            .values(**values, updated_at=tx.now)
        )
        changed.extend(k.removesuffix("_id") for k in values)
    if changed:
        tx.emit(ConversationChanged(conversation_id, tuple(changed)))
    return tuple(changed)
