"""Applying what routing rules decided (jobs/rules.py evaluates them).

``apply_outcomes`` goes through the ordinary actions, in the job's one unit of
work, and writes a timeline entry per outcome: "rule X (vN) did Y". A rule's
status change passes the run's depth on (actions/rule_queue.py bounds it); its
escalation to level 2 is the Escalate button's (actions/assignment.escalate).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from threadline.actions.assignment import escalate
from threadline.actions.chat_mail import followup_inbox
from threadline.actions.chat_missed import NOTIFY_JOB
from threadline.actions.config import ActionConfig
from threadline.actions.conversations import change_status, update_conversation
from threadline.actions.errors import ActionError
from threadline.actions.replies import send_reply
from threadline.actions.timeline import add_entry
from threadline.core.events import ConversationChanged
from threadline.core.model import Channel, ConversationStatus
from threadline.core.rules import Outcome
from threadline.jobs.queue import enqueue
from threadline.storage.db import Tx
from threadline.storage.tables import conversations, team_members, users

__all__ = ["MAX_NOTIFIED", "apply_outcomes"]

MAX_NOTIFIED = 200  # people one notification goes to


def apply_outcomes(
    tx: Tx, cfg: ActionConfig, conversation_id: int, outcomes: Sequence[Outcome], *, depth: int
) -> int:
    """Carry out each outcome through the actions; returns how many were applied.

    An outcome that cannot be carried out (an agent since deactivated, a team
    deleted, a customer with no channel to reply on) is on the timeline with its
    reason, and the others still run.
    """
    customer_id = tx.conn.execute(
        sa.select(conversations.c.customer_id).where(conversations.c.id == conversation_id)
    ).scalar()
    if customer_id is None:
        return 0
    applied = 0
    for outcome in outcomes:
        error = None
        try:
            _apply(tx, cfg, conversation_id, outcome, depth)
            applied += 1
        except ActionError as exc:
            error = str(exc)
        action = outcome.action
        data: dict[str, Any] = {
            "rule_id": outcome.rule_id,
            "rule": outcome.rule_name,
            "version": outcome.version,
            "action": action.kind,
            "did": action.describe(),
            "reason": outcome.reason,
        }
        if action.value is not None and action.kind not in ("reply", "note"):
            data["value"] = action.value
        if error is not None:
            data["error"] = error
        add_entry(
            tx,
            customer_id=customer_id,
            conversation_id=conversation_id,
            kind="rule_applied",
            data=data,
        )
    return applied


def _apply(tx: Tx, cfg: ActionConfig, conversation_id: int, outcome: Outcome, depth: int) -> None:
    action = outcome.action
    value = action.value
    match action.kind:
        case "assign_agent":
            update_conversation(tx, conversation_id, actor_id=None, assignee_id=int(str(value)))
        case "assign_team":
            update_conversation(tx, conversation_id, actor_id=None, team_id=int(str(value)))
        case "set_priority":
            update_conversation(tx, conversation_id, actor_id=None, priority=str(value))
        case "add_tag":
            update_conversation(tx, conversation_id, actor_id=None, add_tags=[str(value)])
        case "set_escalation" if int(str(value)) == 2:
            # As the Escalate button: the level-2 team takes it, off its agent, queued
            # for one of the team (an inbox without a level-2 team refuses, and says so).
            escalate(tx, conversation_id, actor_id=None)
        case "set_escalation":
            update_conversation(
                tx, conversation_id, actor_id=None, escalation_level=int(str(value))
            )
        case "set_status":
            status = ConversationStatus(str(value))
            if change_status(tx, conversation_id, status, actor_id=None, rule_depth=depth + 1):
                tx.emit(ConversationChanged(conversation_id, ("status",)))
        case "reply" | "note":
            send_reply(
                tx,
                cfg,
                conversation_id=conversation_id,
                author_id=None,
                text=str(value),
                note=action.kind == "note",
            )
        case "notify":
            _notify(tx, conversation_id, outcome)
        case "suggest_channel":
            Channel(str(value))  # the suggestion itself is the timeline entry


def _notify(tx: Tx, conversation_id: int, outcome: Outcome) -> None:
    """Mail the users and the teams' members named, from the first email inbox."""
    action = outcome.action
    people = sa.select(users.c.id, users.c.email).where(
        users.c.deactivated_at.is_(None),
        sa.or_(
            users.c.id.in_(action.users),
            users.c.id.in_(
                sa.select(team_members.c.user_id).where(team_members.c.team_id.in_(action.teams))
            ),
        ),
    )
    found = tx.conn.execute(people.order_by(users.c.id).limit(MAX_NOTIFIED)).all()
    if not found:
        raise ActionError("nobody to notify: the users and teams named have no active members")
    sender = followup_inbox(tx, 0)
    if sender is None:
        raise ActionError("no email inbox to send the notification from")
    subject = f"[Threadline] Rule {outcome.rule_name}: conversation #{conversation_id}"
    text = str(action.value or f"The rule {outcome.rule_name!r} asks you to look at this.")
    for person in found:
        enqueue(
            tx,
            NOTIFY_JOB,
            {
                "inbox_id": sender.id,
                "to": person.email,
                "subject": subject,
                "text": f"{text}\n\n{outcome.reason}\nConversation #{conversation_id}",
                "conversation_id": conversation_id,
            },
        )
