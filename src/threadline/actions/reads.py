"""Read markers: how far each user has read each conversation (the inbox's unread dot)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from threadline.actions.chat_hooks import on_agent_read
from threadline.storage.db import Tx
from threadline.storage.tables import conversation_reads

__all__ = ["mark_read"]


def mark_read(tx: Tx, conversation_id: int, user_id: int) -> datetime:
    """The user has seen the conversation as it is now.

    One upsert, so two tabs marking the same conversation at once cannot
    collide on the primary key. The caller checks the conversation is in scope.
    """
    values = {"user_id": user_id, "conversation_id": conversation_id, "read_at": tx.now}
    stmt: Any
    if tx.conn.dialect.name == "postgresql":
        stmt = postgresql.insert(conversation_reads).values(values)
    else:
        stmt = sqlite.insert(conversation_reads).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[conversation_reads.c.user_id, conversation_reads.c.conversation_id],
        set_={"read_at": stmt.excluded.read_at},
    )
    tx.conn.execute(stmt)
    on_agent_read(tx, conversation_id)  # a chat visitor's widget shows it was read
    return tx.now
