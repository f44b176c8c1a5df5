"""The time_passed sweep: every ``every`` (a minute by default) while a time_passed
rule is on, queue a rule run for each conversation such a rule may now hold for.

A sweep is a job on a fixed grid of times (one job per grid time, by its key), so
it survives restarts like every other timer, and a desk without time_passed rules
runs none: saving or enabling such a rule starts the chain (actions/rules.py), and
each sweep queues the next while one is on. A sweep reads at most ``batch``
conversations per job; when a page is full it queues its continuation at once,
after the last id it read, so a large backlog is walked in bounded steps and a
conversation late in id order is not starved by earlier ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa

from threadline.actions.rule_queue import RULES_JOB
from threadline.core.rules_sweep import TIME_PASSED, Prefilter
from threadline.jobs.queue import enqueue
from threadline.queries.rules_sweep import time_passed_candidates
from threadline.storage.db import Tx
from threadline.storage.tables import rules

__all__ = [
    "SWEEP_JOB",
    "schedule_sweep",
    "start_sweeps",
    "sweep_now",
    "sweep_time_passed",
    "timed_rules",
]

SWEEP_JOB = "time_passed_sweep"  # jobs/rules.py runs it


def _slot(now: datetime, every: timedelta) -> datetime:
    """The next sweep time on a fixed grid, so every caller names the same one."""
    step = max(int(every.total_seconds()), 1)
    return datetime.fromtimestamp((int(now.timestamp()) // step + 1) * step, tz=now.tzinfo)


def schedule_sweep(tx: Tx, every: timedelta) -> None:
    """Queue the next sweep on the grid; its key makes every call the same job."""
    at = _slot(tx.now, every)
    key = f"{SWEEP_JOB}:{at.isoformat()}"
    enqueue(tx, SWEEP_JOB, {"pass": at.isoformat()}, run_at=at, key=key, max_attempts=1)


def sweep_now(tx: Tx) -> None:
    """A time_passed rule was saved or switched on: sweep at once (that sweep queues
    the next on the grid), rather than wait up to a sweep interval."""
    key = f"{SWEEP_JOB}:now:{tx.now.isoformat()}"
    enqueue(tx, SWEEP_JOB, {"pass": tx.now.isoformat()}, key=key, max_attempts=1)


def timed_rules(tx: Tx) -> int:
    """How many enabled rules listen to time_passed (their definitions are read: a
    desk has at most a few thousand rules, and this runs when one is saved)."""
    definitions = tx.conn.execute(
        sa.select(rules.c.definition).where(rules.c.deleted_at.is_(None), rules.c.enabled.is_(True))
    ).scalars()
    return sum(TIME_PASSED in (d or {}).get("events", ()) for d in definitions)


def start_sweeps(tx: Tx, every: timedelta) -> bool:
    """Queue the next sweep if a time_passed rule is on (at start-up, and when a rule
    is saved: the chain may have stopped while none was); returns whether one is."""
    if not timed_rules(tx):
        return False
    schedule_sweep(tx, every)
    return True


def sweep_time_passed(
    tx: Tx, filters: Sequence[Prefilter], *, after: int, batch: int, every: timedelta, pass_: str
) -> list[int]:
    """One page of a sweep: queue a time_passed run for each candidate after ``after``,
    then the next page (a full one) or the next sweep (the last one, while any
    time_passed rule is on). Returns the conversations queued."""
    ids = time_passed_candidates(tx.conn, filters, tx.now, after=after, limit=batch)
    for conversation_id in ids:
        # One run per conversation per sweep, however many pages or retries name it.
        payload = {"event": TIME_PASSED, "conversation_id": conversation_id, "depth": 0}
        enqueue(tx, RULES_JOB, payload, key=f"{TIME_PASSED}:{conversation_id}:{pass_}")
    if ids and len(ids) >= batch:
        last = ids[-1]
        enqueue(
            tx,
            SWEEP_JOB,
            {"pass": pass_, "after": last},
            key=f"{SWEEP_JOB}:{pass_}:{last}",
            max_attempts=1,
        )
    elif filters:
        schedule_sweep(tx, every)
    return ids
