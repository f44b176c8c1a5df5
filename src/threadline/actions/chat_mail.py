"""Live chat that continues by email (docs/widget.md, "Agents' side").

An agent's chat reply schedules a ``chat_followup`` job (actions/chat_hooks.py).
When it runs, a reply the visitor has neither read nor stayed to read is mailed
to them, with every other reply they missed, in one mail: a real outbound email
message of the conversation, from the chat inbox's follow-up inbox, so its
delivery shows on the timeline and the visitor's answer (to ``reply+<token>@``)
continues the same conversation. A visitor may also ask for the transcript.

Exactly once: the follow-up message and the visitor's ``mailed_seq`` are written
in one transaction, and a reply at or below ``mailed_seq`` is never mailed again.
"""

from __future__ import annotations

from datetime import timedelta, tzinfo
from typing import Any

import sqlalchemy as sa

from threadline.actions.chat import set_profile
from threadline.actions.config import ActionConfig
from threadline.actions.delivery import queue_delivery
from threadline.actions.errors import ActionError, NotFound
from threadline.actions.timeline import add_entry, update_entry
from threadline.core.chat_mail import followup_mail
from threadline.core.events import ConversationChanged
from threadline.core.model import AuthorType, Channel, DeliveryStatus, Direction
from threadline.core.tokens import new_message_id
from threadline.jobs.queue import enqueue
from threadline.queries.chat_mail import MailLine, chat_lines, visitor_messages
from threadline.storage.db import Tx
from threadline.storage.tables import (
    chat_events,
    chat_visitors,
    conversations,
    identities,
    inboxes,
    messages,
)

__all__ = [
    "FOLLOWUP_JOB",
    "MAX_CHECKS",
    "MAX_MAILED",
    "TRANSCRIPT_EVERY",
    "TRANSCRIPT_JOB",
    "TooSoon",
    "customer_email",
    "follow_up",
    "followup_inbox",
    "request_transcript",
    "schedule_followup",
    "transcript_status",
]

FOLLOWUP_JOB = "chat_followup"  # jobs/chat_mail.py runs these
TRANSCRIPT_JOB = "chat_transcript"
# A visitor who keeps the page open without reading is checked again each delay,
# this many times (an hour at the default), then left to read it in the widget.
MAX_CHECKS = 30
MAX_MAILED = 50  # replies in one follow-up: the newest, if an agent wrote more
TRANSCRIPT_EVERY = timedelta(minutes=10)


class TooSoon(ActionError):
    """Asked again before the limit allows; ``retry_after`` in seconds (HTTP 429)."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def followup_inbox(tx: Tx, chat_inbox_id: int) -> Any | None:
    """The email inbox a chat inbox's mail goes out from: its ``followup_inbox_id``
    when that is an email inbox, else the first email inbox; None without any."""
    config = tx.conn.execute(
        sa.select(inboxes.c.config).where(inboxes.c.id == chat_inbox_id)
    ).scalar()
    wanted = config.get("followup_inbox_id") if isinstance(config, dict) else None
    query = sa.select(inboxes).where(inboxes.c.channel == Channel.EMAIL.value)
    if isinstance(wanted, int) and not isinstance(wanted, bool):
        query = query.order_by((inboxes.c.id == wanted).desc(), inboxes.c.id)
    else:
        query = query.order_by(inboxes.c.id)
    return tx.conn.execute(query.limit(1)).first()


def customer_email(tx: Tx, customer_id: int) -> str | None:
    """The customer's email address: a verified one first, then the newest."""
    found = tx.conn.execute(
        sa.select(identities.c.value)
        .where(identities.c.customer_id == customer_id, identities.c.kind == "email")
        .order_by(identities.c.verified.desc(), identities.c.id.desc())
        .limit(1)
    ).scalar()
    return None if found is None else str(found)


def schedule_followup(tx: Tx, cfg: ActionConfig, visitor_id: int, seq: int) -> None:
    """An agent's reply became the visitor's event ``seq``: check on it later."""
    enqueue(
        tx,
        FOLLOWUP_JOB,
        {"visitor_id": visitor_id, "seq": seq, "check": 0},
        run_at=tx.now + timedelta(seconds=cfg.chat_followup_seconds),
        key=f"chat_followup:{visitor_id}:{seq}",
    )


def _visitor(tx: Tx, visitor_id: int, *, lock: bool = False) -> Any:
    query = sa.select(chat_visitors).where(chat_visitors.c.id == visitor_id)
    return tx.conn.execute(query.with_for_update() if lock else query).first()


def _unread(tx: Tx, visitor: Any) -> list[MailLine]:
    after = max(int(visitor.visitor_read_seq), int(visitor.mailed_seq))
    return visitor_messages(tx.conn, visitor.id, after=after, replies_only=True, limit=MAX_MAILED)


def follow_up(
    tx: Tx,
    cfg: ActionConfig,
    *,
    visitor_id: int,
    seq: int,
    check: int,
    business: str | None,
    zone: tzinfo,
) -> str:
    """Mail the visitor the replies they left unread, if they have left; says what
    it did: ``mailed``, ``read`` (nothing unread or unmailed), ``later`` (a newer
    reply's own check will mail them all), ``here`` (checked again later),
    ``no_email``, ``no_inbox`` or ``gone``.
    """
    delay = timedelta(seconds=cfg.chat_followup_seconds)
    visitor = _visitor(tx, visitor_id)
    if visitor is None:
        return "gone"
    unread = _unread(tx, visitor)
    if not unread:
        return "read"
    if unread[-1].at + delay > tx.now:
        return "later"  # batched: one mail for a run of quick replies
    if visitor.last_seen_at is not None and visitor.last_seen_at > tx.now - delay:
        if check < MAX_CHECKS:
            enqueue(
                tx,
                FOLLOWUP_JOB,
                {"visitor_id": visitor_id, "seq": seq, "check": check + 1},
                run_at=tx.now + delay,
                key=f"chat_followup:{visitor_id}:{seq}:{check + 1}",
            )
        return "here"
    # The conversation's row lock first, then the visitor's, as every chat path
    # takes them (actions/chat_hooks.py); then read again under the locks.
    conversation_id = unread[-1].conversation_id
    conv = tx.conn.execute(
        sa.select(conversations).where(conversations.c.id == conversation_id).with_for_update()
    ).first()
    if conv is None:
        return "gone"
    visitor = _visitor(tx, visitor_id, lock=True)
    unread = _unread(tx, visitor)
    if not unread:
        return "read"
    recipient = visitor.email or customer_email(tx, conv.customer_id)
    if not recipient:
        return "no_email"
    inbox = followup_inbox(tx, visitor.inbox_id)
    if inbox is None:
        return "no_inbox"
    name = business or str(inbox.name)
    mail = followup_mail(
        chat_lines(unread, visitor=None, business=name),
        business=name,
        page=visitor.origin,
        zone=zone,
    )
    agents = [line.author_id for line in unread if line.author_type == "agent" and line.author_id]
    _queue_email(
        tx,
        cfg,
        conv=conv,
        inbox=inbox,
        recipient=recipient,
        text=mail.text,
        author_id=agents[-1] if agents else None,
        meta={"chat_followup": {"visitor_id": visitor_id, "seqs": [u.seq for u in unread]}},
    )
    tx.conn.execute(
        chat_visitors.update()
        .where(chat_visitors.c.id == visitor_id)
        .values(mailed_seq=unread[-1].seq)
    )
    return "mailed"


def _queue_email(
    tx: Tx,
    cfg: ActionConfig,
    *,
    conv: Any,
    inbox: Any,
    recipient: str,
    text: str,
    author_id: int | None,
    meta: dict[str, Any],
) -> int:
    """An outbound email of the conversation, queued for the delivery job as any
    reply is: it shows on the timeline with its delivery status."""
    domain = str(inbox.address).rpartition("@")[2]
    message_id: int = tx.conn.execute(
        messages.insert().returning(messages.c.id),
        {
            "conversation_id": conv.id,
            "customer_id": conv.customer_id,
            "inbox_id": inbox.id,
            "direction": Direction.OUTBOUND.value,
            "channel": Channel.EMAIL.value,
            "author_type": (AuthorType.AGENT if author_id else AuthorType.SYSTEM).value,
            "author_id": author_id,
            "text": text,
            "full_text": None,
            "html": None,
            "provider_message_id": new_message_id(domain),
            "recipient": recipient,
            "status": DeliveryStatus.QUEUED.value,
            "error": None,
            "meta": meta,
            "created_at": tx.now,
            "sent_at": None,
        },
    ).scalar_one()
    add_entry(
        tx,
        customer_id=conv.customer_id,
        conversation_id=conv.id,
        kind="message",
        message_id=message_id,
        data={"direction": "outbound", "channel": Channel.EMAIL.value, "followup": True},
    )
    tx.emit(ConversationChanged(conv.id, ("last_message",)))
    queue_delivery(tx, message_id, conv.id, Channel.EMAIL.value, attempts=cfg.delivery_attempts)
    return message_id


def request_transcript(tx: Tx, visitor_id: int, email: str | None) -> str:
    """The visitor asks for their chat by email: a ``chat_transcript`` job and a
    timeline entry for the agents. Returns the address it goes to.

    ``email``, when given, becomes the visitor's claimed email first (as the
    offline form's does). One transcript per 10 minutes per visitor (TooSoon).
    """
    row = _visitor(tx, visitor_id)
    if row is None:
        raise NotFound(f"chat visitor {visitor_id} not found")
    if row.transcript_at is not None:
        wait = (row.transcript_at + TRANSCRIPT_EVERY - tx.now).total_seconds()
        if wait > 0:
            raise TooSoon("a transcript was sent a moment ago; try again later", wait)
    if email is not None and email.strip():
        set_profile(tx, visitor_id, name=None, email=email)
        row = _visitor(tx, visitor_id)
    if not row.email:
        raise ActionError("tell us your email address to get the transcript")
    has_messages = tx.conn.execute(
        sa.select(chat_events.c.seq)
        .where(chat_events.c.visitor_id == visitor_id, chat_events.c.kind == "message")
        .limit(1)
    ).first()
    if has_messages is None or row.conversation_id is None:
        raise ActionError("there is no chat to send yet")
    inbox = followup_inbox(tx, row.inbox_id)
    if inbox is None:
        raise ActionError("transcripts by email are not set up for this chat")
    customer_id = tx.conn.execute(
        sa.select(conversations.c.customer_id).where(conversations.c.id == row.conversation_id)
    ).scalar_one()
    tx.conn.execute(
        chat_visitors.update().where(chat_visitors.c.id == visitor_id).values(transcript_at=tx.now)
    )
    entry_id = add_entry(
        tx,
        customer_id=customer_id,
        conversation_id=row.conversation_id,
        kind="transcript_emailed",
        data={"to": row.email, "status": "queued"},
    )
    enqueue(
        tx,
        TRANSCRIPT_JOB,
        {
            "visitor_id": visitor_id,
            "entry_id": entry_id,
            "to": row.email,
            "inbox_id": inbox.id,
            "conversation_id": row.conversation_id,
            "upto": int(row.last_seq),
        },
        key=f"chat_transcript:{entry_id}",
    )
    return str(row.email)


def transcript_status(tx: Tx, entry_id: int, to: str, error: str | None = None) -> None:
    """The transcript's mail went out (or could not): its timeline entry says so."""
    data: dict[str, Any] = {"to": to, "status": "failed" if error else "sent"}
    if error:
        data["error"] = error[:500]
    update_entry(tx, entry_id, data)
