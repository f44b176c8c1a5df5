"""Agents changing a conversation: status (with snooze), priority, assignee, team,
escalation level and tags.

Each change adds a timeline entry; ``update_conversation`` emits one
ConversationChanged naming what changed, so the inbox row is pushed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from threadline.actions.assignment_queue import sweep_now
from threadline.actions.chat_hooks import on_resolved
from threadline.actions.errors import ActionError, NotFound
from threadline.actions.rule_queue import enqueue_rules
from threadline.actions.sla import pause_clocks, resume_clocks, retarget_clocks, stop_clocks
from threadline.actions.sla_clock import sync_clocks
from threadline.actions.tags import change_tags
from threadline.actions.timeline import add_entry
from threadline.core.conversation import InvalidTransition, check_snooze, check_transition
from threadline.core.events import ConversationChanged
from threadline.core.model import ConversationStatus
from threadline.jobs.queue import enqueue
from threadline.queries.scope import load_scope
from threadline.storage.db import Tx
from threadline.storage.tables import conversations, teams, users

__all__ = [
    "ESCALATION_LEVELS",
    "PRIORITIES",
    "WAKE_JOB",
    "change_status",
    "update_conversation",
]

PRIORITIES = ("low", "normal", "high", "urgent")
ESCALATION_LEVELS = (1, 2)
WAKE_JOB = "wake_snoozed"  # jobs/snooze.py runs it


def _load(tx: Tx, conversation_id: int) -> sa.Row[Any]:
    row = tx.conn.execute(
        sa.select(conversations).where(conversations.c.id == conversation_id)
    ).first()
    if row is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return row


def change_status(
    tx: Tx,
    conversation_id: int,
    status: ConversationStatus,
    *,
    actor_id: int | None,
    until: datetime | None = None,
    rule_depth: int = 0,
) -> bool:
    """Move the conversation to ``status``; snoozed needs ``until``, when a job wakes it.

    Returns whether anything changed (snoozing a snoozed conversation to a new
    time does). Leaving snoozed forgets the time; resolving ends the wait.
    ``rule_depth`` is how deep in rule runs a rule's own change is (rule_queue.py).
    """
    row = _load(tx, conversation_id)
    current = ConversationStatus(row.status)
    snoozing = status is ConversationStatus.SNOOZED
    if until is not None and not snoozing:
        raise ActionError("a snooze time goes with the status snoozed")
    try:
        check_transition(current, status)
        wake_at = check_snooze(until, tx.now) if snoozing else None
    except InvalidTransition as exc:
        raise ActionError(str(exc)) from exc
    if current is status and wake_at == row.snoozed_until:
        return False
    values: dict[str, Any] = {
        "status": status.value,
        "snoozed_until": wake_at,
        "resolved_at": tx.now if status is ConversationStatus.RESOLVED else None,
        "updated_at": tx.now,
    }
    if current is not status:
        values["status_changed_at"] = tx.now  # time_passed rules count hours in status
    if status is ConversationStatus.RESOLVED:
        values["waiting_since"] = None
        values.update(stop_clocks(tx, conversation_id))
    elif current is ConversationStatus.PENDING and status is not ConversationStatus.PENDING:
        resume_clocks(tx, conversation_id)  # the customer no longer holds it up
    tx.conn.execute(
        conversations.update().where(conversations.c.id == conversation_id).values(**values)
    )
    if status is ConversationStatus.PENDING:
        pause_clocks(tx, conversation_id)  # time pending on the customer does not count
    sync_clocks(tx, conversation_id)  # their timers follow: stopped, paused or resumed
    data: dict[str, Any] = {"from": current.value, "to": status.value, "by": actor_id}
    if wake_at is not None:
        data["until"] = wake_at.isoformat()
        # One job per snooze time: the job checks the time is still the one set,
        # so a snooze moved later, or ended by hand, is not woken early.
        enqueue(
            tx,
            WAKE_JOB,
            {"conversation_id": conversation_id},
            run_at=wake_at,
            key=f"wake:{conversation_id}:{wake_at.isoformat()}",
        )
    add_entry(
        tx,
        customer_id=row.customer_id,
        conversation_id=conversation_id,
        kind="status_changed",
        data=data,
    )
    if status is ConversationStatus.RESOLVED:
        on_resolved(tx, conversation_id)  # a chat visitor's widget asks for a rating
        if row.assignee_id is not None:
            sweep_now(tx)  # its agent has room for one that waits
    enqueue_rules(tx, "status_changed", conversation_id, depth=rule_depth)
    return True


def update_conversation(
    tx: Tx,
    conversation_id: int,
    *,
    actor_id: int | None,
    status: ConversationStatus | None = None,
    snoozed_until: datetime | None = None,
    priority: str | None = None,
    assignee_id: int | None = None,
    unassign: bool = False,
    team_id: int | None = None,
    unassign_team: bool = False,
    escalation_level: int | None = None,
    add_tags: Sequence[str] = (),
    remove_tags: Sequence[str] = (),
    reason: str | None = None,
) -> tuple[str, ...]:
    """Apply the changes asked for; returns the names of those that changed anything.

    ``reason`` goes on the assignment's timeline entry (automatic assignment says why).
    """
    row = _load(tx, conversation_id)
    changed: list[str] = []
    if status is None and snoozed_until is not None:
        status = ConversationStatus.SNOOZED
    if status is not None and change_status(
        tx, conversation_id, status, actor_id=actor_id, until=snoozed_until
    ):
        changed.append("status")
    values: dict[str, Any] = {}
    clocks: dict[str, Any] = {}  # the SLA due times a new priority moves

    def note(kind: str, column: str, new: Any, **extra: Any) -> None:
        values[column] = new
        add_entry(
            tx,
            customer_id=row.customer_id,
            conversation_id=conversation_id,
            kind=kind,
            data={"from": row._mapping[column], "to": new, "by": actor_id, **extra},
        )

    if priority is not None and priority != row.priority:
        if priority not in PRIORITIES:
            raise ActionError(f"priority must be one of {', '.join(PRIORITIES)}")
        clocks = retarget_clocks(tx, conversation_id, priority)
        note("priority_changed", "priority", priority)
    if escalation_level is not None and escalation_level != row.escalation_level:
        if escalation_level not in ESCALATION_LEVELS:
            raise ActionError("the escalation level is 1 or 2")
        note("escalation_changed", "escalation_level", escalation_level)
    new_assignee = None if unassign else assignee_id
    if (unassign or assignee_id is not None) and new_assignee != row.assignee_id:
        if new_assignee is not None:
            _check_assignee(tx, new_assignee, row.inbox_id)
        note("assigned", "assignee_id", new_assignee, **({"reason": reason} if reason else {}))
    new_team = None if unassign_team else team_id
    if (unassign_team or team_id is not None) and new_team != row.team_id:
        if new_team is not None:
            _check_team(tx, new_team)
        note("team_assigned", "team_id", new_team)
    if values:
        tx.conn.execute(
            conversations.update()
            .where(conversations.c.id == conversation_id)
            .values(**values, **clocks, updated_at=tx.now)
        )
        changed.extend(k.removesuffix("_id") for k in values)
        if clocks:
            sync_clocks(tx, conversation_id)  # a new priority moves the timers too
    if (add_tags or remove_tags) and change_tags(
        tx, conversation_id, add=add_tags, remove=remove_tags, actor_id=actor_id
    ):
        changed.append("tags")
    if changed:
        tx.emit(ConversationChanged(conversation_id, tuple(changed)))
    return tuple(changed)


def _check_assignee(tx: Tx, user_id: int, inbox_id: int | None) -> None:
    """Only an active agent or admin who can see the conversation's inbox works it:
    assigning it to anyone else would hand it to someone who cannot open it."""
    user = tx.conn.execute(
        sa.select(users.c.role, users.c.deactivated_at).where(users.c.id == user_id)
    ).first()
    if user is None:
        raise ActionError(f"user {user_id} does not exist")
    if user.deactivated_at is not None:
        raise ActionError(f"user {user_id} is deactivated")
    if user.role not in ("admin", "agent"):
        raise ActionError(f"user {user_id} is a viewer and cannot work conversations")
    if not load_scope(tx.conn, user_id, user.role).allows_inbox(inbox_id):
        raise ActionError(f"user {user_id} cannot see this conversation's inbox")


def _check_team(tx: Tx, team_id: int) -> None:
    if tx.conn.execute(sa.select(teams.c.id).where(teams.c.id == team_id)).first() is None:
        raise ActionError(f"team {team_id} does not exist")
