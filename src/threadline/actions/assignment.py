"""Automatic assignment: queue a conversation for an agent, assign it, escalate it.

A new conversation (or a reopened one nobody holds) in an inbox with a strategy
is queued in the same transaction that stores its message, with a job due now,
or at the inbox's next email batch time. The job (jobs/assignment.py) reads who
is online, and ``assign_queued`` decides with core/assignment.pick_agent. A
conversation that found nobody stays queued with the reason; the sweep tries it
again as agents come online, free capacity or start their shift.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa

from threadline.actions.assignment_queue import schedule_sweep
from threadline.actions.conversations import update_conversation
from threadline.actions.errors import ActionError, NotFound
from threadline.actions.timeline import add_entry
from threadline.core.assignment import Choice, Strategy, Wanted, pick_agent
from threadline.core.model import Channel, ConversationStatus
from threadline.core.shifts import next_batch
from threadline.jobs.queue import enqueue
from threadline.queries.assignment import candidates, inbox_settings, previous_agent
from threadline.storage.db import Tx
from threadline.storage.tables import agent_assignment, assignment_queue, conversations

__all__ = [
    "ASSIGN_JOB",
    "SWEEP_BATCH",
    "assign_queued",
    "due_queued",
    "escalate",
    "request_assignment",
]

ASSIGN_JOB = "assign"
SWEEP_BATCH = 100  # queued conversations tried per sweep

_QUEUED = sa.select(assignment_queue.c.due_at, assignment_queue.c.reason).where(
    assignment_queue.c.conversation_id == sa.bindparam("cid")
)


def request_assignment(tx: Tx, conversation_id: int, *, inbox_id: int, channel: str) -> bool:
    """Queue the conversation for an agent if its inbox assigns automatically and
    nobody holds it; returns whether it was queued."""
    settings = inbox_settings(tx, inbox_id)
    if settings is None or settings.strategy is Strategy.MANUAL:
        return False
    assignee = tx.conn.execute(
        sa.select(conversations.c.assignee_id).where(conversations.c.id == conversation_id)
    ).scalar()
    if assignee is not None:
        return False
    due = next_batch(settings.batches, tx.now) if channel == Channel.EMAIL else tx.now
    _queue(tx, conversation_id, due)
    return True


def _queue(tx: Tx, conversation_id: int, due: datetime) -> None:
    found = tx.conn.execute(_QUEUED, {"cid": conversation_id}).first()
    if found is None:
        tx.conn.execute(
            assignment_queue.insert().values(
                conversation_id=conversation_id, due_at=due, created_at=tx.now
            )
        )
    elif found.due_at > due:
        tx.conn.execute(
            assignment_queue.update()
            .where(assignment_queue.c.conversation_id == conversation_id)
            .values(due_at=due)
        )
    else:
        return  # already queued as early: its job or the sweep will come
    # A job that finds the queue row gone (someone was quicker) does nothing.
    enqueue(tx, ASSIGN_JOB, {"conversation_id": conversation_id}, run_at=due, max_attempts=3)
    schedule_sweep(tx)


def _dequeue(tx: Tx, conversation_id: int) -> None:
    tx.conn.execute(
        assignment_queue.delete().where(assignment_queue.c.conversation_id == conversation_id)
    )


def assign_queued(tx: Tx, conversation_id: int, *, online: Collection[int]) -> Choice | None:
    """Assign the queued conversation if it is due and someone is available.

    ``online`` is the users whose presence is online now (read outside the
    transaction). Returns None when there was nothing to do: not queued, not yet
    due, or already taken, resolved, or in an inbox now assigned by hand.
    """
    queued = tx.conn.execute(_QUEUED, {"cid": conversation_id}).first()
    if queued is None or queued.due_at > tx.now:
        return None
    _serialize(tx)
    row = tx.conn.execute(
        sa.select(conversations).where(conversations.c.id == conversation_id)
    ).first()
    settings = None if row is None or row.inbox_id is None else inbox_settings(tx, row.inbox_id)
    if (
        row is None
        or row.assignee_id is not None
        or row.status == ConversationStatus.RESOLVED.value
        or settings is None
        or settings.strategy is Strategy.MANUAL
    ):
        _dequeue(tx, conversation_id)
        return None
    channel = row.last_inbound_channel or settings.channel
    level2 = row.escalation_level == 2 and settings.level2_team_id is not None
    wanted = Wanted(
        channel=channel,
        strategy=settings.strategy,
        skills=settings.skills,
        team_id=settings.level2_team_id if level2 else row.team_id,
        previous_agent_id=(
            previous_agent(tx.conn, row.customer_id, conversation_id) if settings.sticky else None
        ),
    )
    choice = pick_agent(candidates(tx.conn, row.inbox_id, channel, tx.now, online), wanted)
    reason = f"level 2: {choice.reason}" if level2 else choice.reason
    if choice.agent_id is None:
        _still_waiting(tx, row.customer_id, conversation_id, queued.reason, reason)
        return Choice(None, reason)
    update_conversation(
        tx, conversation_id, actor_id=None, assignee_id=choice.agent_id, reason=reason
    )
    marked = tx.conn.execute(
        agent_assignment.update()
        .where(agent_assignment.c.user_id == choice.agent_id)
        .values(last_assigned_at=tx.now)
    ).rowcount
    if not marked:  # an agent nobody set up yet: the defaults, and round robin's mark
        tx.conn.execute(
            agent_assignment.insert().values(
                user_id=choice.agent_id,
                capacity={},
                skills=[],
                last_assigned_at=tx.now,
                updated_at=tx.now,
            )
        )
    _dequeue(tx, conversation_id)
    return Choice(choice.agent_id, reason)


# Loads are counted, then raised: two assignments weighing the same agent at once
# would both see room for one more chat. On PostgreSQL they take turns on this
# lock (held to commit; each statement after it sees the other's commit); SQLite's
# single writer already runs them one at a time. Assignment is rare enough to queue.
_LOCK = 0x7468_7264_6173_7367  # "thrdassg"


def _serialize(tx: Tx) -> None:
    if tx.conn.dialect.name == "postgresql":
        tx.conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK)))


def _still_waiting(
    tx: Tx, customer_id: int, conversation_id: int, before: str | None, reason: str
) -> None:
    """Keep it queued with the reason; the timeline hears only when the reason changes,
    so a sweep every half minute does not fill it."""
    tx.conn.execute(
        assignment_queue.update()
        .where(assignment_queue.c.conversation_id == conversation_id)
        .values(reason=reason[:200], tried_at=tx.now)
    )
    if before != reason[:200]:
        add_entry(
            tx,
            customer_id=customer_id,
            conversation_id=conversation_id,
            kind="assignment_waiting",
            data={"reason": reason},
        )


def due_queued(tx: Tx, *, limit: int = SWEEP_BATCH) -> list[int]:
    """Queued conversations due now, those waiting longest first."""
    return list(
        tx.conn.execute(
            sa.select(assignment_queue.c.conversation_id)
            .where(assignment_queue.c.due_at <= tx.now)
            .order_by(assignment_queue.c.due_at, assignment_queue.c.conversation_id)
            .limit(limit)
        ).scalars()
    )


def escalate(tx: Tx, conversation_id: int, *, actor_id: int | None) -> None:
    """Level 2: the conversation goes to the inbox's level-2 team, and is queued for
    one of its agents (now; escalations skip the email batch)."""
    row = tx.conn.execute(
        sa.select(conversations.c.inbox_id, conversations.c.escalation_level).where(
            conversations.c.id == conversation_id
        )
    ).first()
    if row is None:
        raise NotFound(f"conversation {conversation_id} not found")
    settings = None if row.inbox_id is None else inbox_settings(tx, row.inbox_id)
    if settings is None or settings.level2_team_id is None:
        raise ActionError("this inbox has no level-2 team (Settings → Assignment)")
    if row.escalation_level == 2:
        raise ActionError("the conversation is already at level 2")
    update_conversation(
        tx,
        conversation_id,
        actor_id=actor_id,
        escalation_level=2,
        team_id=settings.level2_team_id,
        unassign=True,
    )
    if settings.strategy is not Strategy.MANUAL:
        _queue(tx, conversation_id, tx.now)
