"""The assignment sweep's schedule: conversations waiting for an agent are tried
again every SWEEP_EVERY while any wait, and at once when an agent comes online or
a conversation is resolved (capacity freed). The sweep itself is jobs/assignment.py.

Apart from actions/assignment.py so that actions/conversations.py, which that
module builds on, can start a sweep when it frees an agent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from threadline.jobs.queue import enqueue
from threadline.storage.db import Tx
from threadline.storage.tables import assignment_queue

__all__ = ["SWEEP_EVERY", "SWEEP_JOB", "schedule_sweep", "sweep_now", "waiting_any"]

SWEEP_JOB = "assign_sweep"
SWEEP_EVERY = timedelta(seconds=30)


def _slot(now: datetime) -> datetime:
    """The next sweep time on a fixed grid, so every caller names the same one."""
    step = int(SWEEP_EVERY.total_seconds())
    return datetime.fromtimestamp((int(now.timestamp()) // step + 1) * step, tz=now.tzinfo)


def schedule_sweep(tx: Tx) -> None:
    """Queue the next sweep (jobs/assignment.py); its key makes every call one job."""
    at = _slot(tx.now)
    enqueue(tx, SWEEP_JOB, {}, run_at=at, key=f"{SWEEP_JOB}:{at.isoformat()}", max_attempts=1)


def sweep_now(tx: Tx) -> bool:
    """Someone may take a waiting conversation (an agent came online, one was
    resolved): try the queue at once rather than at the next sweep. Returns whether
    anyone waits (a web request then wakes its job runner)."""
    if not waiting_any(tx):
        return False
    key = f"{SWEEP_JOB}:now:{tx.now.isoformat()}"
    enqueue(tx, SWEEP_JOB, {}, run_at=tx.now, key=key, max_attempts=1)
    return True


def waiting_any(tx: Tx) -> bool:
    return (
        tx.conn.execute(sa.select(assignment_queue.c.conversation_id).limit(1)).first() is not None
    )
