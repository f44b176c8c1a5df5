"""Waking a snoozed conversation when its time comes (the job in jobs/snooze.py)."""

from __future__ import annotations

import sqlalchemy as sa

from threadline.actions.timeline import add_entry
from threadline.core.events import ConversationChanged
from threadline.core.model import ConversationStatus
from threadline.storage.db import Tx
from threadline.storage.tables import conversations

__all__ = ["wake_conversation"]


def wake_conversation(tx: Tx, conversation_id: int) -> bool:
    """Open the conversation if it is still snoozed and its time has come.

    A job is queued per snooze time, so a job may find the conversation already
    opened by the customer, snoozed again to a later time, or resolved: then
    it does nothing, and returns False.
    """
    row = tx.conn.execute(
        sa.select(
            conversations.c.customer_id, conversations.c.status, conversations.c.snoozed_until
        ).where(conversations.c.id == conversation_id)
    ).first()
    if (
        row is None
        or row.status != ConversationStatus.SNOOZED.value
        or row.snoozed_until is None
        or row.snoozed_until > tx.now
    ):
        return False
    tx.conn.execute(
        conversations.update()
        .where(conversations.c.id == conversation_id)
        .values(
            status=ConversationStatus.OPEN.value,
            snoozed_until=None,
            status_changed_at=tx.now,
            updated_at=tx.now,
        )
    )
    add_entry(
        tx,
        customer_id=row.customer_id,
        conversation_id=conversation_id,
        kind="status_changed",
        data={"from": "snoozed", "to": "open", "by": "system", "reason": "woke"},
    )
    tx.emit(ConversationChanged(conversation_id, ("status",)))
    return True
