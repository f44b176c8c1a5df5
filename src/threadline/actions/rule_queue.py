"""Queueing rule runs: the events that rules listen to, enqueued where they happen.

The action that causes an event (a message received, a conversation created, a
status changed) enqueues a ``run_rules`` job in its own transaction, so the
event cannot be lost and the rules run after commit (jobs/rules.py).

A rule's own status change is an event too: its job carries a depth one more
than the run that caused it, and past MAX_DEPTH nothing is enqueued, so two rules
that reopen and resolve each other stop after a few rounds instead of forever.
"""

from __future__ import annotations

from typing import Any

from threadline.jobs.queue import enqueue
from threadline.storage.db import Tx
from threadline.storage.sql import Statement, db_bool, run

__all__ = ["MAX_DEPTH", "RULES_JOB", "enqueue_rules"]

RULES_JOB = "run_rules"  # jobs/rules.py runs it
MAX_DEPTH = 3  # rule runs caused by rule runs


# Checked for every inbound message, on the driver's cursor (storage/sql.py).
_ANY_ON = Statement("SELECT id FROM rules WHERE deleted_at IS NULL AND enabled = :on LIMIT 1")


def enqueue_rules(
    tx: Tx,
    event: str,
    conversation_id: int,
    *,
    message_id: int | None = None,
    depth: int = 0,
    key: str | None = None,
) -> bool:
    """Queue a rule run for ``event``; returns whether one was queued (not when no
    rule is on, which keeps a desk without rules free of the job)."""
    if depth > MAX_DEPTH:
        return False
    if run(tx, _ANY_ON, {"on": db_bool(tx, True)}).fetchone() is None:
        return False
    payload: dict[str, Any] = {"event": event, "conversation_id": conversation_id, "depth": depth}
    if message_id is not None:
        payload["message_id"] = message_id
    enqueue(tx, RULES_JOB, payload, key=key)
    return True
