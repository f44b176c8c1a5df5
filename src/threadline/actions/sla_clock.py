"""SLA clocks on conversations and their durable timers (core/sla_clock.py decides).

Whoever sets, moves or clears a due time calls ``set_clock`` in the same
transaction: the clock row and its two timer jobs (warn, breach) are written
with the change, so a crash can never leave a due time without its timers.
The jobs are keyed by the due time they were scheduled for. Moving a due time
deletes the old clock's queued jobs (so they do not pile up), and a timer that
was already running when its due time moved finds, when it fires, that the
clock no longer holds its due time and does nothing (``fire_timer``).

``fire_timer`` is what the rules engine and notifications hang off: it records
an SlaWarning or SlaBreached event (core/events.py), once per due time.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from threadline.actions.rule_queue import enqueue_rules
from threadline.actions.sla import CLOCK_COLUMNS, targets_for
from threadline.actions.timeline import add_entry
from threadline.core.events import SlaBreached, SlaWarning
from threadline.core.sla import Kind
from threadline.core.sla_clock import (
    DEFAULT_WARNING,
    ClockKind,
    ClockState,
    Step,
    WarningRule,
    may_fire,
    schedule,
    state_after,
)
from threadline.jobs.queue import enqueue
from threadline.storage.db import Tx
from threadline.storage.sql import Statement, db_time, run
from threadline.storage.tables import as_utc, conversations, jobs, sla_clocks

__all__ = ["SLA_JOB", "fire_timer", "set_clock", "sync_clocks"]

SLA_JOB = "sla_timer"  # jobs/sla.py runs it
# A timer is a small write; if the database is down for longer than the retries
# (15 s … 2 min), the next due timer of the clock still runs, and the badge is
# at worst one step behind.
_ATTEMPTS = 5

_s = sla_clocks.c
_KEY_CLOCK = sa.and_(
    _s.conversation_id == sa.bindparam("cid"), _s.kind == sa.bindparam("clock_kind")
)


def _job_key(conversation_id: int, kind: str, due_at: datetime, step: Step) -> str:
    return f"sla:{conversation_id}:{kind}:{due_at.isoformat()}:{step.value}"


def _cancel(tx: Tx, conversation_id: int, kind: str, due_at: datetime) -> None:
    """Drop the queued timers of a due time that no longer holds. A running one is
    left to find that out for itself."""
    keys = [_job_key(conversation_id, kind, due_at, step) for step in Step]
    tx.conn.execute(
        jobs.delete().where(jobs.c.idempotency_key.in_(keys), jobs.c.status == "queued")
    )


def set_clock(
    tx: Tx,
    conversation_id: int,
    kind: ClockKind,
    *,
    started_at: datetime | None,
    due_at: datetime | None,
    rule: WarningRule = DEFAULT_WARNING,
) -> bool:
    """Start, move or (with ``due_at`` None) stop a conversation's clock and its timers.

    Idempotent: the same due time again changes nothing. A moved due time starts
    the clock over (running, no warning yet). Returns whether anything changed.
    Call it after the conversation's row was written in this transaction, so its
    row lock orders concurrent changes of the same clock.
    """
    params = {"cid": conversation_id, "clock_kind": kind.value}
    old = tx.conn.execute(sa.select(_s.due_at).where(_KEY_CLOCK), params).first()
    old_due = as_utc(old.due_at) if old is not None else None
    return _set(tx, conversation_id, kind, old_due, started_at, due_at, rule)


# On the driver's cursor: a new conversation starts two clocks (storage/sql.py).
_INSERT_CLOCK = Statement(
    "INSERT INTO sla_clocks (conversation_id, kind, started_at, due_at, warn_at, state, "
    "warned_at, breached_at, updated_at) "
    "VALUES (:cid, :clock_kind, :started_at, :due_at, :warn_at, :state, NULL, NULL, :now)"
)


def _set(
    tx: Tx,
    conversation_id: int,
    kind: ClockKind,
    old_due: datetime | None,
    started_at: datetime | None,
    due_at: datetime | None,
    rule: WarningRule,
) -> bool:
    """``set_clock`` once the clock's current due time (``old_due``) is known."""
    params = {"cid": conversation_id, "clock_kind": kind.value}
    if due_at is None or started_at is None:
        if old_due is None:
            return False
        tx.conn.execute(sla_clocks.delete().where(_KEY_CLOCK), params)
        _cancel(tx, conversation_id, kind.value, old_due)
        return True
    if old_due == due_at:
        return False
    plan = schedule(started_at, due_at, rule)
    if old_due is None:
        run(
            tx,
            _INSERT_CLOCK,
            {
                **params,
                "started_at": db_time(tx, plan.started_at),
                "due_at": db_time(tx, plan.due_at),
                "warn_at": db_time(tx, plan.warn_at),
                "state": ClockState.RUNNING.value,
                "now": db_time(tx, tx.now),
            },
        )
    else:
        moved = {
            "started_at": plan.started_at,
            "due_at": plan.due_at,
            "warn_at": plan.warn_at,
            "state": ClockState.RUNNING.value,
            "warned_at": None,
            "breached_at": None,
            "updated_at": tx.now,
        }
        tx.conn.execute(sla_clocks.update().where(_KEY_CLOCK).values(**moved), params)
        _cancel(tx, conversation_id, kind.value, old_due)
    for step, at in ((Step.WARN, plan.warn_at), (Step.BREACH, plan.due_at)):
        if at is None:
            continue
        enqueue(
            tx,
            SLA_JOB,
            {
                "conversation_id": conversation_id,
                "clock": kind.value,
                "due_at": due_at.isoformat(),
                "step": step.value,
            },
            run_at=at,
            key=_job_key(conversation_id, kind.value, due_at, step),
            max_attempts=_ATTEMPTS,
        )
    return True


# On the driver's cursor: they run for every inbound message (storage/sql.py).
_CLOCKS = Statement(
    "SELECT waiting_since, created_at, priority, last_inbound_channel, paused_at, "
    "first_response_due_at, next_response_due_at, resolution_due_at "
    "FROM conversations WHERE id = :cid"
)
# The due times come back in CLOCK_COLUMNS' order.
assert tuple(CLOCK_COLUMNS.values()) == (
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
)
_RUNNING = Statement("SELECT kind, due_at FROM sla_clocks WHERE conversation_id = :cid")


def sync_clocks(tx: Tx, conversation_id: int) -> bool:
    """Bring the conversation's timed clocks in line with its due times
    (actions/sla.py sets them from the policies): a due time set or moved
    (re)schedules its warning and breach, one cleared (answered, resolved, merged
    away) or paused (pending on the customer) stops them. Call it after the
    conversation's row was written in this transaction. Returns whether anything
    changed; a message that changes no due time costs two indexed reads.
    """
    found = run(tx, _CLOCKS, {"cid": conversation_id}).fetchone()
    if found is None:
        return False
    waiting_since, created_at, priority, channel, paused_at, *dues = found
    running = {k: as_utc(due) for k, due in run(tx, _RUNNING, {"cid": conversation_id}).fetchall()}
    wanted = {
        ClockKind(kind.value): None if paused_at is not None else as_utc(due)
        for kind, due in zip(CLOCK_COLUMNS, dues, strict=True)
    }
    if all(running.get(kind.value) == due for kind, due in wanted.items()):
        return False
    targets = targets_for(tx, channel or "", priority)
    changed = False
    for kind, due in wanted.items():
        if running.get(kind.value) == due:
            continue
        started = created_at if kind is ClockKind.RESOLUTION else waiting_since
        target = targets.get(Kind(kind.value))
        # The policy's warning point, or the default's lead before due if that is later.
        rule = WarningRule(fraction=target.warn_percent / 100) if target else DEFAULT_WARNING
        changed |= _set(
            tx, conversation_id, kind, running.get(kind.value), as_utc(started) or tx.now, due, rule
        )
    return changed


def fire_timer(
    tx: Tx, *, conversation_id: int, kind: ClockKind, due_at: datetime, step: Step
) -> SlaWarning | SlaBreached | None:
    """A timer came due: warn or breach, if the clock still holds ``due_at`` and has
    not taken this step yet. Returns the event recorded, or None (a stale timer)."""
    params = {"cid": conversation_id, "clock_kind": kind.value}
    clock = tx.conn.execute(
        sa.select(_s.state, _s.due_at).where(_KEY_CLOCK).with_for_update(), params
    ).first()
    current = ClockState(clock.state) if clock is not None else None
    current_due = as_utc(clock.due_at) if clock is not None else None
    if current is None or not may_fire(
        current=current, current_due=current_due, timer_due=due_at, step=step, now=tx.now
    ):
        return None
    state = state_after(current, step)
    stamp = "warned_at" if step is Step.WARN else "breached_at"
    tx.conn.execute(
        sla_clocks.update()
        .where(_KEY_CLOCK)
        .values(state=state.value, updated_at=tx.now, **{stamp: tx.now}),
        params,
    )
    customer_id = tx.conn.execute(
        sa.select(conversations.c.customer_id).where(conversations.c.id == conversation_id)
    ).scalar_one()
    add_entry(
        tx,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind="sla_warning" if step is Step.WARN else "sla_breached",
        data={"clock": kind.value, "due_at": due_at.isoformat(), "at": tx.now.isoformat()},
    )
    event: SlaWarning | SlaBreached
    if step is Step.WARN:
        event = SlaWarning(conversation_id, kind.value, due_at, tx.now)
    else:
        event = SlaBreached(conversation_id, kind.value, due_at, tx.now)
    tx.emit(event)
    # Rules listening for SLA events (escalate, reassign, notify) run on it.
    enqueue_rules(tx, "sla_warning" if step is Step.WARN else "sla_breach", conversation_id)
    return event
