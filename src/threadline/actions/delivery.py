"""What became of outbound messages: sent, delivered, read, or failed (visibly)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from threadline.actions.errors import ActionError, NotFound
from threadline.actions.timeline import add_entry
from threadline.core.events import MessageStatusChanged, ReplyQueued
from threadline.core.model import DeliveryStatus as D
from threadline.core.model import Direction, StatusUpdate
from threadline.core.tokens import verify_id
from threadline.jobs.queue import enqueue
from threadline.storage.db import Tx
from threadline.storage.tables import messages

__all__ = ["apply_status_update", "queue_delivery", "retry_delivery", "set_delivery_status"]

# Providers report out of order (a "delivered" can overtake its "sent"); a
# status never moves backwards.
_RANK = {D.QUEUED: 0, D.SENT: 1, D.DELIVERED: 2, D.READ: 3, D.FAILED: 2}


def set_delivery_status(
    tx: Tx,
    message_id: int,
    status: D,
    *,
    error: str | None = None,
    provider_message_id: str | None = None,
) -> bool:
    """Move one outbound message forward; returns False if that would go backwards."""
    row = tx.conn.execute(
        sa.select(
            messages.c.id,
            messages.c.status,
            messages.c.conversation_id,
            messages.c.customer_id,
            messages.c.channel,
        ).where(messages.c.id == message_id, messages.c.direction == Direction.OUTBOUND.value)
    ).first()
    if row is None:
        return False
    current = D(row.status)
    if current is status or _RANK[status] < _RANK[current] or current is D.FAILED:
        return False
    values: dict[str, Any] = {"status": status.value, "error": error}
    if provider_message_id is not None:
        values["provider_message_id"] = provider_message_id
    if status is D.SENT:
        values["sent_at"] = tx.now
    tx.conn.execute(messages.update().where(messages.c.id == message_id).values(**values))
    if status is D.FAILED:
        add_entry(
            tx,
            customer_id=row.customer_id,
            conversation_id=row.conversation_id,
            kind="delivery_failed",
            message_id=message_id,
            data={"channel": row.channel, "error": error or "the provider gave no reason"},
        )
    tx.emit(MessageStatusChanged(message_id, row.conversation_id, status.value, error))
    return True


def retry_delivery(tx: Tx, message_id: int, *, attempts: int, actor_id: int | None) -> None:
    """Send a failed reply again: the same message, queued afresh (an agent's retry).

    Each retry is its own job (the key counts retries), so a retry never merges
    with the job that gave up; the message keeps its id and its timeline place.
    """
    row = tx.conn.execute(
        sa.select(
            messages.c.status, messages.c.conversation_id, messages.c.channel, messages.c.meta
        ).where(messages.c.id == message_id, messages.c.direction == Direction.OUTBOUND.value)
    ).first()
    if row is None:
        raise NotFound(f"message {message_id} not found")
    if row.status != D.FAILED.value:
        raise ActionError("only a failed reply can be sent again")
    retries = int((row.meta or {}).get("retries", 0)) + 1
    meta = {**(row.meta or {}), "retries": retries, "retried_by": actor_id}
    tx.conn.execute(
        messages.update()
        .where(messages.c.id == message_id)
        .values(status=D.QUEUED.value, error=None, meta=meta)
    )
    tx.emit(MessageStatusChanged(message_id, row.conversation_id, D.QUEUED.value, None))
    queue_delivery(
        tx, message_id, row.conversation_id, row.channel, attempts=attempts, retry=retries
    )


def queue_delivery(
    tx: Tx,
    message_id: int,
    conversation_id: int,
    channel: str,
    *,
    attempts: int,
    retry: int | None = None,
) -> None:
    """Queue a stored outbound message's delivery job, in this transaction, and wake
    the job runner after commit. A retry gets a job of its own (``retry``: its number)."""
    key = f"deliver:{message_id}" if retry is None else f"deliver:{message_id}:retry:{retry}"
    enqueue(tx, "deliver", {"message_id": message_id}, key=key, max_attempts=attempts)
    tx.emit(ReplyQueued(message_id, conversation_id, channel))


def apply_status_update(tx: Tx, update: StatusUpdate, secret_key: str) -> int | None:
    """Apply a provider's status callback or bounce; returns the message it matched."""
    message_id = update.message_id
    for pid in update.provider_message_ids:
        # A bounce to our VERP address (bounce+<token>@) names the message exactly,
        # even when the bounce quotes none of the original headers.
        if message_id is None and pid.startswith("verp:"):
            message_id = verify_id("bounce", pid.removeprefix("verp:"), secret_key)
    if message_id is None and update.provider_message_ids:
        message_id = tx.conn.execute(
            sa.select(messages.c.id)
            .where(
                messages.c.provider_message_id.in_(update.provider_message_ids),
                messages.c.direction == Direction.OUTBOUND.value,
            )
            .order_by(messages.c.id.desc())
            .limit(1)
        ).scalar()
    if message_id is None:
        return None
    error = update.error
    if update.recipients and error:
        error = f"{error} ({', '.join(update.recipients)})"
    set_delivery_status(tx, message_id, update.status, error=error)
    return message_id
