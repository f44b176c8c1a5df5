"""The off-hours acknowledgement: queued in the ingest transaction, sent after commit.

``queue_off_hours_reply`` runs for every customer message inside
``receive_inbound``: with the reply off or the inbox open it returns after one
indexed read and a dict lookup (actions/sla.py caches the parsed calendar by the
stored config), so the hot path stays cheap. Otherwise it enqueues one
``off_hours_reply`` job keyed by the conversation and the closed period, so a
second message of the same night queues nothing.

``send_off_hours_reply`` is the job's unit of work. It claims the conversation's
row in ``auto_replies`` (unique per conversation, kind and period) before it
sends, in the same transaction: a job run twice, or by two workers, sends once.
A period whose reply is not sent keeps its row, with the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects import postgresql, sqlite

from threadline.actions.config import ActionConfig
from threadline.actions.errors import ActionError, NotFound
from threadline.actions.replies import send_reply
from threadline.actions.sla import inbox_setup, targets_for
from threadline.core.model import AuthorType, Channel, Direction
from threadline.core.off_hours import (
    OffHoursReply,
    check_off_hours,
    closed_period,
    read_off_hours,
    render,
    unanswerable,
)
from threadline.core.promise import promise
from threadline.core.sla import FIRST_RESPONSE, Kind
from threadline.jobs.queue import enqueue
from threadline.storage.db import Tx
from threadline.storage.tables import (
    audit_log,
    auto_replies,
    conversations,
    inboxes,
    messages,
)

__all__ = [
    "KIND",
    "MAX_PER_CUSTOMER",
    "OFF_HOURS_JOB",
    "queue_off_hours_reply",
    "send_off_hours_reply",
    "set_off_hours_reply",
]

log = structlog.get_logger(__name__)

OFF_HOURS_JOB = "off_hours_reply"  # jobs/off_hours.py runs it
KIND = "off_hours"
# Acknowledgements one customer gets in one closed period, across conversations: a
# sender who opens a new conversation with every mail (a newsletter without list
# headers, another desk's autoresponder) is a bulk sender, not someone waiting.
MAX_PER_CUSTOMER = 3


def queue_off_hours_reply(
    tx: Tx, inbox_id: int, conversation_id: int, message_id: int, channel: str
) -> bool:
    """Queue the acknowledgement of a customer's message when its inbox is closed
    and has the reply on; returns whether a job was queued."""
    config, calendar = inbox_setup(tx, inbox_id)
    raw = config.get("off_hours_reply")
    if not isinstance(raw, dict) or raw.get("enabled") is not True:
        return False
    period = closed_period(calendar, tx.now)
    if period is None:
        return False
    enqueue(
        tx,
        OFF_HOURS_JOB,
        {
            "conversation_id": conversation_id,
            "message_id": message_id,
            "inbox_id": inbox_id,
            "channel": channel,
            "period": period.isoformat(),
        },
        key=f"off_hours:{conversation_id}:{period:%Y%m%dT%H%M%SZ}",
    )
    return True


def _claim(tx: Tx, conversation_id: int, inbox_id: int, period: datetime) -> int | None:
    """The period's row for this conversation, new; None when one exists already."""
    values = {
        "conversation_id": conversation_id,
        "inbox_id": inbox_id,
        "kind": KIND,
        "period": period,
        "created_at": tx.now,
    }
    insert: Any = (
        postgresql.insert(auto_replies)
        if tx.conn.dialect.name == "postgresql"
        else sqlite.insert(auto_replies)
    )
    found = tx.conn.execute(
        insert.values(values).on_conflict_do_nothing().returning(auto_replies.c.id)
    ).scalar()
    return None if found is None else int(found)


def _why_not(
    tx: Tx, message: Any, period: datetime, reply: OffHoursReply, *, agent_online: bool
) -> str | None:
    if not reply.enabled:
        return "the off-hours reply was turned off"
    if tx.now >= period:
        return "the inbox opened before the reply could go"
    if message.status == "resolved":
        return "resolved before the reply could go"
    if message.channel == Channel.CHAT.value and agent_online:
        return "an agent who answers this chat is online"
    robot = unanswerable(str((message.meta or {}).get("sender") or ""))
    if robot is not None:
        return robot
    answered = tx.conn.execute(
        sa.select(messages.c.id)
        .where(
            messages.c.conversation_id == message.conversation_id,
            messages.c.direction == Direction.OUTBOUND.value,
            messages.c.author_type == AuthorType.AGENT.value,
            messages.c.id > message.id,
        )
        .limit(1)
    ).first()
    if answered is not None:
        return "an agent answered first"
    sent = tx.conn.execute(
        sa.select(sa.func.count())
        .select_from(auto_replies.join(conversations))
        .where(
            auto_replies.c.kind == KIND,
            auto_replies.c.period == period,
            auto_replies.c.message_id.is_not(None),
            conversations.c.customer_id == message.customer_id,
        )
    ).scalar_one()
    if sent >= MAX_PER_CUSTOMER:
        return f"a bulk sender: {sent} conversations acknowledged this period"
    return None


def send_off_hours_reply(
    tx: Tx, cfg: ActionConfig, payload: dict[str, Any], *, agent_online: bool = False
) -> str:
    """Send the acknowledgement the payload asks for, once; returns what happened
    (for the log). ``agent_online``: someone who answers this chat is online now
    (read by the job from presence, which lives outside the database)."""
    inbox_id = int(payload["inbox_id"])
    period = datetime.fromisoformat(str(payload["period"]))
    message = tx.conn.execute(
        sa.select(
            messages.c.id,
            messages.c.conversation_id,
            messages.c.customer_id,
            messages.c.channel,
            messages.c.meta,
            conversations.c.priority,
            conversations.c.status,
        )
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(messages.c.id == int(payload["message_id"]))
    ).first()
    if message is None:
        return "the message is gone"
    # The message's conversation now (a merge moves messages), one row per period.
    row_id = _claim(tx, message.conversation_id, inbox_id, period)
    if row_id is None:
        return "already acknowledged this period"
    config, calendar = inbox_setup(tx, inbox_id)
    reply = read_off_hours(config)
    reason = _why_not(tx, message, period, reply, agent_online=agent_online)
    message_id = None
    if reason is None:
        channel = Channel(message.channel)
        target = targets_for(tx, channel.value, message.priority).get(
            Kind.FIRST_RESPONSE, FIRST_RESPONSE.get(channel, FIRST_RESPONSE[Channel.EMAIL])
        )
        text = render(reply, promise(calendar, target, tx.now))
        try:
            sent = send_reply(
                tx,
                cfg,
                conversation_id=message.conversation_id,
                author_id=None,
                text=text,
                channel=channel,
                meta={"auto_reply": KIND},
            )
            message_id = sent.message_id
        except ActionError as exc:  # the channel refused (no inbox to send from…)
            reason = str(exc)[:200]
    tx.conn.execute(
        auto_replies.update()
        .where(auto_replies.c.id == row_id)
        .values(message_id=message_id, reason=reason)
    )
    return "sent" if reason is None else f"not sent: {reason}"


def set_off_hours_reply(
    tx: Tx, inbox_id: int, raw: dict[str, Any], *, contact_page: bool = True, actor: str
) -> OffHoursReply:
    """Store an inbox's off-hours reply (on or off, the self-help link, the text) and
    whether the public contact page lists it. Raises ActionError saying what is
    wrong, NotFound for no such inbox."""
    try:
        reply = check_off_hours(raw)
    except ValueError as exc:
        raise ActionError(str(exc)) from exc
    row = tx.conn.execute(sa.select(inboxes.c.config).where(inboxes.c.id == inbox_id)).first()
    if row is None:
        raise NotFound(f"inbox {inbox_id} not found")
    # Only these keys change: the sealed secrets beside them are kept as they are.
    config = {
        **(row.config or {}),
        "off_hours_reply": reply.as_config(),
        "contact_page": contact_page,
    }
    tx.conn.execute(inboxes.update().where(inboxes.c.id == inbox_id).values(config=config))
    tx.conn.execute(
        audit_log.insert(),
        {
            "actor": actor,
            "action": "inbox.off_hours_reply",
            "subject": f"inbox:{inbox_id}",
            "data": {**reply.as_config(), "contact_page": contact_page},
            "created_at": tx.now,
        },
    )
    return reply
