"""Hot-path SQL for live chat: a visitor's message becomes their next event.

Every message a visitor sends takes these statements inside the ingest writer,
so they run on the driver's cursor like storage/inbound.py (storage/sql.py says
why): written as Core they were 40% of the writer's time per chat message.
"""

from __future__ import annotations

from typing import Any

from threadline.storage.db import Tx
from threadline.storage.sql import Statement, db_json, db_time, run

__all__ = ["bind_visitor_next_seq", "insert_event", "next_seq"]

# The seq comes from the visitor row's counter under its row lock, in the
# transaction that stores the event: two events of one visitor can neither share
# a seq nor commit out of seq order (docs/widget.md, "Ordering").
_BIND_NEXT_SEQ = Statement(
    "UPDATE chat_visitors SET last_seq = last_seq + 1, conversation_id = :conversation_id, "
    "customer_id = :customer_id, last_seen_at = :now "
    "WHERE key = :key AND inbox_id = :inbox_id RETURNING id, last_seq"
)
_NEXT_SEQ = Statement(
    "UPDATE chat_visitors SET last_seq = last_seq + 1 WHERE id = :id RETURNING last_seq"
)
_INSERT_EVENT = Statement(
    "INSERT INTO chat_events (visitor_id, seq, kind, message_id, client_id, data, created_at) "
    "VALUES (:visitor_id, :seq, :kind, :message_id, :client_id, :data, :now)"
)


def bind_visitor_next_seq(
    tx: Tx, *, inbox_id: int, key: str, conversation_id: int, customer_id: int
) -> tuple[int, int] | None:
    """The visitor (by inbox and key) now shows this conversation: their id and the
    seq for their next event, or None when there is no such visitor."""
    row = run(
        tx,
        _BIND_NEXT_SEQ,
        {
            "inbox_id": inbox_id,
            "key": key,
            "conversation_id": conversation_id,
            "customer_id": customer_id,
            "now": db_time(tx, tx.now),
        },
    ).fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def next_seq(tx: Tx, visitor_id: int) -> int | None:
    row = run(tx, _NEXT_SEQ, {"id": visitor_id}).fetchone()
    return None if row is None else int(row[0])


def insert_event(
    tx: Tx,
    *,
    visitor_id: int,
    seq: int,
    kind: str,
    message_id: int | None,
    client_id: str | None,
    data: dict[str, Any],
) -> None:
    run(
        tx,
        _INSERT_EVENT,
        {
            "visitor_id": visitor_id,
            "seq": seq,
            "kind": kind,
            "message_id": message_id,
            "client_id": client_id,
            "data": db_json(tx, data),
            "now": db_time(tx, tx.now),
        },
    )
