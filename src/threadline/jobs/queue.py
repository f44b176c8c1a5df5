"""The job table: durable work and timers in the same database as everything else.

Enqueued in the transaction that creates the work (an outbox), so a reply is
never stored without its delivery job or the other way round. Claimed with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's single writer makes the
same statement atomic there. A worker that dies mid-job loses only its lease:
the job is claimed again when ``locked_until`` passes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.storage.db import Tx
from threadline.storage.sql import Statement, db_json, db_time, run
from threadline.storage.tables import as_utc, jobs

__all__ = [
    "Job",
    "backoff",
    "claim",
    "complete",
    "enqueue",
    "fail",
    "next_run_at",
    "retry_later",
]


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int  # including this one
    max_attempts: int


def enqueue(
    tx: Tx,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
    key: str | None = None,
    max_attempts: int = 6,
) -> None:
    """Add a job; a second job with the same ``key`` is silently the same job."""
    run(
        tx,
        _ENQUEUE,
        {
            "kind": kind,
            "payload": db_json(tx, payload),
            "run_at": db_time(tx, run_at or tx.now),
            "max_attempts": max_attempts,
            "key": key,
            "now": db_time(tx, tx.now),
        },
    )


# On the driver's cursor (storage/sql.py): a customer's message enqueues its SLA
# timers, its rules run and its assignment in the writer's transaction.
_ENQUEUE = Statement(
    "INSERT INTO jobs (kind, payload, status, run_at, attempts, max_attempts, "
    "idempotency_key, created_at) "
    "VALUES (:kind, :payload, 'queued', :run_at, 0, :max_attempts, :key, :now) "
    "ON CONFLICT DO NOTHING"
)


def claim(tx: Tx, *, limit: int = 20, lease: timedelta = timedelta(minutes=5)) -> list[Job]:
    due = sa.or_(
        sa.and_(jobs.c.status == "queued", jobs.c.run_at <= tx.now),
        sa.and_(jobs.c.status == "running", jobs.c.locked_until < tx.now),
    )
    ids = (
        sa.select(jobs.c.id)
        .where(due)
        .order_by(jobs.c.run_at, jobs.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = tx.conn.execute(
        jobs.update()
        .where(jobs.c.id.in_(ids))
        .values(status="running", locked_until=tx.now + lease, attempts=jobs.c.attempts + 1)
        .returning(jobs.c.id, jobs.c.kind, jobs.c.payload, jobs.c.attempts, jobs.c.max_attempts)
    ).all()
    return sorted(
        (Job(r.id, r.kind, r.payload, r.attempts, r.max_attempts) for r in rows),
        key=lambda j: j.id,
    )


_NEXT = sa.select(sa.func.min(jobs.c.run_at)).where(jobs.c.status == "queued")


def next_run_at(conn: Connection) -> datetime | None:
    """When the next queued job comes due (one step along the status/run_at index),
    so the runner can wake for a timer rather than up to a poll interval after it."""
    return as_utc(conn.execute(_NEXT).scalar())


def complete(tx: Tx, job_id: int) -> None:
    tx.conn.execute(
        jobs.update()
        .where(jobs.c.id == job_id)
        .values(status="done", finished_at=tx.now, locked_until=None)
    )


def backoff(attempts: int) -> timedelta:
    """15 s, 30 s, 1 min, 2 min … capped at 30 min: quick for a blip, patient for an outage."""
    return timedelta(seconds=min(15 * 2 ** max(attempts - 1, 0), 1800))


def retry_later(tx: Tx, job: Job, error: str) -> None:
    tx.conn.execute(
        jobs.update()
        .where(jobs.c.id == job.id)
        .values(
            status="queued",
            run_at=tx.now + backoff(job.attempts),
            locked_until=None,
            last_error=error[:2000],
        )
    )


def fail(tx: Tx, job_id: int, error: str) -> None:
    tx.conn.execute(
        jobs.update()
        .where(jobs.c.id == job_id)
        .values(status="failed", finished_at=tx.now, locked_until=None, last_error=error[:2000])
    )
