"""Appending to a customer's timeline: the one place entries are written."""

from __future__ import annotations

from typing import Any

from threadline.core.events import TimelineEntryAdded
from threadline.storage.db import Tx
from threadline.storage.tables import timeline_entries

__all__ = ["add_entry"]


def add_entry(
    tx: Tx,
    *,
    customer_id: int,
    conversation_id: int | None,
    kind: str,
    message_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    entry_id: int = tx.conn.execute(
        timeline_entries.insert().returning(timeline_entries.c.id),
        {
            "customer_id": customer_id,
            "conversation_id": conversation_id,
            "kind": kind,
            "message_id": message_id,
            "data": data or {},
            "created_at": tx.now,
        },
    ).scalar_one()
    tx.emit(TimelineEntryAdded(entry_id, customer_id, conversation_id, kind))
    return entry_id
