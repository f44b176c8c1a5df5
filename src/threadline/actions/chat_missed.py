"""The missed-chat alert: a chat nobody answered within its target is mailed to
the agents who can answer it (DESIGN.md §3, step 6: "email for a missed chat").

A visitor's message that starts (or continues) a wait schedules one
``chat_missed`` job at the conversation's first-response due time, keyed by the
start of the wait: once per waiting period, however many messages the visitor
sends. When it runs and the visitor still waits, each agent who sees the
conversation's inbox gets one ``notify_email`` job (keyed per agent, so a retry
never mails anyone twice) and the timeline says who was alerted.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

import sqlalchemy as sa

from threadline.actions.chat_mail import followup_inbox
from threadline.actions.timeline import add_entry
from threadline.core.chat_mail import missed_chat_mail
from threadline.core.model import ConversationStatus, Direction
from threadline.jobs.queue import enqueue
from threadline.queries.scope import load_scope
from threadline.storage.db import Tx
from threadline.storage.sql import Statement, run
from threadline.storage.tables import (
    as_utc,
    chat_visitors,
    conversations,
    customers,
    inboxes,
    messages,
    timeline_entries,
    users,
)

__all__ = [
    "MAX_ALERTED",
    "MISSED_JOB",
    "NOTIFY_JOB",
    "alert_missed_chat",
    "answering_agents",
    "schedule_missed",
]

MISSED_JOB = "chat_missed"  # jobs/chat_mail.py runs these
NOTIFY_JOB = "notify_email"
MAX_ALERTED = 200  # agents one alert goes to; a team larger than that has a rota


# The wait's response clock: the first response, or a next one after an agent
# answered. On the driver's cursor: every chat message asks (storage/sql.py).
_WAIT = Statement(
    "SELECT waiting_since, COALESCE(first_response_due_at, next_response_due_at) "
    "FROM conversations WHERE id = :id"
)


def schedule_missed(tx: Tx, conversation_id: int, chat_inbox_id: int) -> None:
    """A visitor's message was stored: alert the agents if nobody has answered by
    the time the conversation's first response is due.

    Only the message that starts a wait schedules the alert (the later ones of the
    same wait would find it queued): every chat message passes here, so the rest
    cost one indexed read."""
    row = run(tx, _WAIT, {"id": conversation_id}).fetchone()
    if row is None:
        return
    waiting_since, due = as_utc(row[0]), as_utc(row[1])
    if waiting_since is None or due is None or waiting_since != tx.now:
        return
    since = waiting_since.isoformat()
    enqueue(
        tx,
        MISSED_JOB,
        {"conversation_id": conversation_id, "since": since, "inbox_id": chat_inbox_id},
        run_at=due,
        key=f"chat_missed:{conversation_id}:{since}",
    )


def answering_agents(tx: Tx, inbox_id: int) -> list[Any]:
    """Active agents and admins whose scope holds the inbox (their teams', or all)."""
    rows = tx.conn.execute(
        sa.select(users.c.id, users.c.email, users.c.role)
        .where(users.c.role.in_(("admin", "agent")), users.c.deactivated_at.is_(None))
        .order_by(users.c.id)
        .limit(MAX_ALERTED)
    ).all()
    return [r for r in rows if load_scope(tx.conn, r.id, r.role).allows_inbox(inbox_id)]


def _already_alerted(tx: Tx, conversation_id: int, since: str) -> bool:
    for data in tx.conn.execute(
        sa.select(timeline_entries.c.data).where(
            timeline_entries.c.conversation_id == conversation_id,
            timeline_entries.c.kind == "chat_missed",
        )
    ).scalars():
        if isinstance(data, dict) and data.get("since") == since:
            return True
    return False


def _customer_name(tx: Tx, conv: Any) -> str:
    name = tx.conn.execute(
        sa.select(customers.c.name).where(customers.c.id == conv.customer_id)
    ).scalar()
    if not name:
        name = tx.conn.execute(
            sa.select(chat_visitors.c.name)
            .where(chat_visitors.c.conversation_id == conv.id, chat_visitors.c.name.is_not(None))
            .limit(1)
        ).scalar()
    return str(name or "")


def alert_missed_chat(
    tx: Tx,
    *,
    conversation_id: int,
    since: str,
    chat_inbox_id: int,
    base_url: str,
    zone: tzinfo,
) -> int:
    """Mail the agents if the wait that began at ``since`` still goes on; returns
    how many were alerted (0: answered, resolved, already alerted, or nobody)."""
    conv = tx.conn.execute(
        sa.select(conversations).where(conversations.c.id == conversation_id)
    ).first()
    if (
        conv is None
        or conv.waiting_since is None
        or conv.waiting_since != datetime.fromisoformat(since)
        or conv.status != ConversationStatus.OPEN.value
        or conv.inbox_id is None
        or _already_alerted(tx, conversation_id, since)
    ):
        return 0
    sender = followup_inbox(tx, chat_inbox_id)
    agents = answering_agents(tx, conv.inbox_id)
    if sender is None or not agents:
        return 0
    first = tx.conn.execute(
        sa.select(messages.c.text)
        .where(
            messages.c.conversation_id == conversation_id,
            messages.c.direction == Direction.INBOUND.value,
            messages.c.created_at >= conv.waiting_since,
        )
        .order_by(messages.c.id)
        .limit(1)
    ).scalar()
    inbox_name = tx.conn.execute(
        sa.select(inboxes.c.name).where(inboxes.c.id == chat_inbox_id)
    ).scalar()
    mail = missed_chat_mail(
        customer=_customer_name(tx, conv),
        inbox=str(inbox_name or "live chat"),
        waiting_since=conv.waiting_since,
        first=str(first or ""),
        link=f"{base_url.rstrip('/')}/conversations/{conversation_id}",
        zone=zone,
    )
    for agent in agents:
        enqueue(
            tx,
            NOTIFY_JOB,
            {
                "inbox_id": sender.id,
                "to": agent.email,
                "subject": mail.subject,
                "text": mail.text,
                "conversation_id": conversation_id,
            },
            key=f"chat_missed:{conversation_id}:{since}:{agent.id}",
        )
    add_entry(
        tx,
        customer_id=conv.customer_id,
        conversation_id=conversation_id,
        kind="chat_missed",
        data={"since": since, "alerted": [a.id for a in agents]},
    )
    return len(agents)
