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

import sqlalchemy as sa

from threadline.jobs.queue import enqueue
from threadline.storage.db import Tx
from threadline.storage.tables import rules

__all__ = ["MAX_DEPTH", "RULES_JOB", "enqueue_rules"]

RULES_JOB = "run_rules"  # jobs/rules.py runs it
MAX_DEPTH = 3  # rule runs caused by rule runs


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
    any_on = tx.conn.execute(
        sa.select(rules.c.id)
        .where(rules.c.deleted_at.is_(None), rules.c.enabled.is_(True))
        .limit(1)
    ).first()
    if any_on is None:
        return False
    payload: dict[str, Any] = {"event": event, "conversation_id": conversation_id, "depth": depth}
    if message_id is not None:
        payload["message_id"] = message_id
    enqueue(tx, RULES_JOB, payload, key=key)
    return True
