"""Calls on the timeline, and callback tasks for the ones nobody answered.

A call is not a message: it becomes one ``call`` timeline entry that fills in
as the provider reports more (ended, recording, transcription). A missed call
or a voicemail also opens or continues the customer's conversation, with a
callback task due within the voice policy's callback target (sla_policies), counted
in the inbox's calendar (actions/sla.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from threadline.actions.config import ActionConfig
from threadline.actions.errors import NotFound
from threadline.actions.inbound import place, resolve_customer
from threadline.actions.sla import callback_due
from threadline.actions.timeline import add_entry, update_entry
from threadline.core.model import CallEvent, Channel, ThreadHints
from threadline.storage.db import Tx
from threadline.storage.tables import calls, conversations, tasks

__all__ = ["FINAL_STATUSES", "CallResult", "complete_task", "log_call", "record_call"]

FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


@dataclass(frozen=True, slots=True)
class CallResult:
    call_id: int
    customer_id: int
    conversation_id: int | None
    task_id: int | None


def _missed(row: Any) -> bool:
    """Inbound and no agent spoke to the caller: somebody owes them a call."""
    if row.direction != "inbound" or row.status not in FINAL_STATUSES:
        return False
    return bool(row.voicemail) or not row.answered


def _entry_data(row: Any) -> dict[str, Any]:
    return {
        "call_id": row.id,
        "direction": row.direction,
        "status": row.status,
        "answered": row.answered,
        "duration_seconds": row.duration_seconds,
        "recording_url": row.recording_url,
        "transcription": row.transcription,
        "voicemail": row.voicemail,
        "notes": row.notes,
    }


def record_call(tx: Tx, cfg: ActionConfig, inbox_id: int, event: CallEvent) -> CallResult:
    customer_id = resolve_customer(tx, event.caller, (), event.caller_name)
    row = tx.conn.execute(
        sa.select(calls).where(
            calls.c.inbox_id == inbox_id, calls.c.provider_call_id == event.call_id
        )
    ).first()
    changes: dict[str, Any] = {
        k: v
        for k, v in {
            "status": event.status,
            "answered": event.answered,
            "duration_seconds": event.duration_seconds,
            "recording_url": event.recording_url,
            "recording_seconds": event.recording_seconds,
            "transcription": event.transcription,
        }.items()
        if v is not None
    }
    if event.voicemail:
        changes["voicemail"] = True
        # Twilio's <Record> action can arrive before the call's final status.
        changes.setdefault("status", "completed")
    if row is None:
        call_id: int = tx.conn.execute(
            calls.insert().returning(calls.c.id),
            {
                "inbox_id": inbox_id,
                "provider_call_id": event.call_id,
                "customer_id": customer_id,
                "direction": event.direction,
                "status": changes.pop("status", "ringing"),
                "voicemail": changes.pop("voicemail", False),
                **changes,
                "created_at": tx.now,
                "updated_at": tx.now,
            },
        ).scalar_one()
    else:
        call_id = row.id
        if changes:
            tx.conn.execute(
                calls.update().where(calls.c.id == call_id).values(**changes, updated_at=tx.now)
            )
    row = tx.conn.execute(sa.select(calls).where(calls.c.id == call_id)).one()

    conversation_id = row.conversation_id
    task_id = None
    if conversation_id is None and _missed(row):
        placed = place(
            tx,
            cfg,
            inbox_id,
            customer_id,
            channel=Channel.VOICE,
            hints=ThreadHints(),
            sender_verified=event.caller.verified,
        )
        conversation_id = placed.conversation_id
        tx.conn.execute(
            calls.update().where(calls.c.id == call_id).values(conversation_id=conversation_id)
        )
        task_id = _open_callback_task(tx, inbox_id, call_id, conversation_id, placed.customer_id)
        row = tx.conn.execute(sa.select(calls).where(calls.c.id == call_id)).one()

    if row.status in FINAL_STATUSES or row.voicemail:
        if row.timeline_entry_id is None:
            entry_id = add_entry(
                tx,
                customer_id=row.customer_id,
                conversation_id=conversation_id,
                kind="call",
                data=_entry_data(row),
            )
            tx.conn.execute(
                calls.update().where(calls.c.id == call_id).values(timeline_entry_id=entry_id)
            )
        else:
            update_entry(tx, row.timeline_entry_id, _entry_data(row))
    return CallResult(call_id, row.customer_id, conversation_id, task_id)


def _open_callback_task(
    tx: Tx, inbox_id: int, call_id: int, conversation_id: int, customer_id: int
) -> int:
    priority = tx.conn.execute(
        sa.select(conversations.c.priority).where(conversations.c.id == conversation_id)
    ).scalar_one()
    due_at = callback_due(tx, inbox_id, priority)  # the voice policy, in the inbox's calendar
    task_id: int = tx.conn.execute(
        tasks.insert().returning(tasks.c.id),
        {
            "kind": "callback",
            "conversation_id": conversation_id,
            "customer_id": customer_id,
            "call_id": call_id,
            "status": "open",
            "due_at": due_at,
            "data": {},
            "created_at": tx.now,
        },
    ).scalar_one()
    add_entry(
        tx,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind="task_opened",
        data={"task_id": task_id, "kind": "callback", "due_at": due_at.isoformat()},
    )
    tx.conn.execute(
        conversations.update()
        .where(conversations.c.id == conversation_id)
        .values(last_activity_at=tx.now, updated_at=tx.now)
    )
    return task_id


def complete_task(tx: Tx, task_id: int, *, actor_id: int | None) -> None:
    row = tx.conn.execute(sa.select(tasks).where(tasks.c.id == task_id)).first()
    if row is None:
        raise NotFound(f"task {task_id} not found")
    if row.status != "open":
        return
    tx.conn.execute(
        tasks.update().where(tasks.c.id == task_id).values(status="done", done_at=tx.now)
    )
    add_entry(
        tx,
        customer_id=row.customer_id,
        conversation_id=row.conversation_id,
        kind="task_done",
        data={"task_id": task_id, "kind": row.kind, "by": actor_id},
    )


def log_call(
    tx: Tx,
    *,
    customer_id: int,
    conversation_id: int | None,
    direction: str,
    duration_seconds: int | None,
    notes: str,
    actor_id: int,
    inbox_id: int | None = None,
) -> int:
    """An agent records a call made or taken outside Threadline."""
    call_id: int = tx.conn.execute(
        calls.insert().returning(calls.c.id),
        {
            "inbox_id": inbox_id,
            "provider_call_id": f"manual:{tx.now.timestamp()}:{actor_id}",
            "customer_id": customer_id,
            "conversation_id": conversation_id,
            "direction": direction,
            "status": "completed",
            "answered": True,
            "duration_seconds": duration_seconds,
            "voicemail": False,
            "notes": notes,
            "logged_by": actor_id,
            "created_at": tx.now,
            "updated_at": tx.now,
        },
    ).scalar_one()
    row = tx.conn.execute(sa.select(calls).where(calls.c.id == call_id)).one()
    entry_id = add_entry(
        tx,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind="call",
        data={**_entry_data(row), "logged_by": actor_id},
    )
    tx.conn.execute(calls.update().where(calls.c.id == call_id).values(timeline_entry_id=entry_id))
    return call_id
