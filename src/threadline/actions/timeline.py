"""Appending to a customer's timeline: the one place entries are written."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from threadline.core.events import TimelineEntryAdded
from threadline.storage import inbound as store
from threadline.storage.db import Tx
from threadline.storage.tables import timeline_entries

__all__ = ["add_entry", "update_entry"]


def add_entry(
    tx: Tx,
    *,
    customer_id: int,
    conversation_id: int | None,
    kind: str,
    message_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    entry_id = store.insert_timeline_entry(
        tx,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind=kind,
        message_id=message_id,
        data=data or {},
    )
    tx.emit(TimelineEntryAdded(entry_id, customer_id, conversation_id, kind))
    return entry_id


def update_entry(tx: Tx, entry_id: int, data: dict[str, Any]) -> None:
    """Entries are appended, not rewritten, except where one entry stands for a
    thing that fills in over time (a call gains its recording, then its transcript)."""
    row = tx.conn.execute(
        sa.select(
            timeline_entries.c.customer_id,
            timeline_entries.c.conversation_id,
            timeline_entries.c.kind,
        ).where(timeline_entries.c.id == entry_id)
    ).one()
    tx.conn.execute(
        timeline_entries.update().where(timeline_entries.c.id == entry_id).values(data=data)
    )
    tx.emit(
        TimelineEntryAdded(entry_id, row.customer_id, row.conversation_id, row.kind, changed=True)
    )
