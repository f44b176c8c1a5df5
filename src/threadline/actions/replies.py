"""send_reply: an agent answers a conversation, on whichever channel fits.

The reply is stored as ``queued`` with its delivery job in the same
transaction; the job runner sends it after commit and records what happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from threadline.actions.attachments import check_outbound_files, store_attachments
from threadline.actions.chat_hooks import deliver_reply, reply_visitors
from threadline.actions.config import ActionConfig
from threadline.actions.conversations import change_status
from threadline.actions.delivery import queue_delivery
from threadline.actions.errors import ActionError, Conflict, NotFound
from threadline.actions.reads import mark_read
from threadline.actions.sla_clock import sync_clocks
from threadline.actions.timeline import add_entry
from threadline.core.capabilities import ReplyRefused, check_reply
from threadline.core.channels import REPLY_IDENTITY, default_reply_channel
from threadline.core.events import ConversationChanged
from threadline.core.model import (
    Attachment,
    AuthorType,
    Channel,
    ConversationStatus,
    DeliveryStatus,
    Direction,
)
from threadline.core.tokens import new_message_id
from threadline.storage.db import Tx
from threadline.storage.tables import conversations, identities, inboxes, messages

__all__ = [
    "ReplyResult",
    "StaleReply",
    "TemplateRef",
    "last_inbound_at",
    "send_reply",
    "usable_channels",
]


_STALE_SCAN = 20  # messages after the agent's screen looked at, at most, by the stale check


class StaleReply(Conflict):
    """Someone wrote in the conversation after the timeline the reply was written
    against: the agent sees the new message before answering (HTTP 409)."""

    def __init__(self, newest: int) -> None:
        super().__init__("a new message arrived since you started writing; read it first")
        self.newest = newest


@dataclass(frozen=True, slots=True)
class ReplyResult:
    message_id: int
    channel: Channel
    recipient: str | None
    status: str
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TemplateRef:
    """An approved provider template (WhatsApp message templates)."""

    name: str
    language: str = "en"
    parameters: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "language": self.language, "parameters": list(self.parameters)}


def last_inbound_at(tx: Tx, customer_id: int, channel: Channel) -> Any:
    """When the customer last wrote on ``channel``: what provider reply windows count from."""
    return tx.conn.execute(
        sa.select(sa.func.max(messages.c.created_at)).where(
            messages.c.customer_id == customer_id,
            messages.c.channel == channel.value,
            messages.c.direction == Direction.INBOUND.value,
        )
    ).scalar()


def _pick_inbox(tx: Tx, conversation_id: int, channel: Channel) -> sa.Row[Any] | None:
    """The inbox the customer last wrote to on this channel, else any inbox of it."""
    last = tx.conn.execute(
        sa.select(messages.c.inbox_id)
        .where(
            messages.c.conversation_id == conversation_id,
            messages.c.channel == channel.value,
            messages.c.inbox_id.is_not(None),
        )
        .order_by(messages.c.id.desc())
        .limit(1)
    ).scalar()
    query = sa.select(inboxes).where(inboxes.c.channel == channel.value)
    if last is not None:
        query = query.order_by((inboxes.c.id == last).desc(), inboxes.c.id)
    else:
        query = query.order_by(inboxes.c.id)
    return tx.conn.execute(query.limit(1)).first()


def _recipient(tx: Tx, customer_id: int, channel: Channel) -> str | None:
    kind = REPLY_IDENTITY[channel]
    if kind is None:
        return None
    value = tx.conn.execute(
        sa.select(identities.c.value)
        .where(identities.c.customer_id == customer_id, identities.c.kind == kind)
        # a verified address first, then the most recently learned one
        .order_by(identities.c.verified.desc(), identities.c.id.desc())
        .limit(1)
    ).scalar()
    if value is None:
        raise ActionError(f"the customer has no {kind} identity, so no {channel.value} reply")
    return str(value)


def usable_channels(tx: Tx, customer_id: int) -> list[Channel]:
    """Channels with a configured inbox on which the customer can be reached."""
    kinds = set(
        tx.conn.execute(
            sa.select(identities.c.kind).where(identities.c.customer_id == customer_id).distinct()
        ).scalars()
    )
    configured = set(tx.conn.execute(sa.select(inboxes.c.channel).distinct()).scalars())
    return [
        c
        for c in Channel
        if c.value in configured and (REPLY_IDENTITY[c] is None or REPLY_IDENTITY[c] in kinds)
    ]


def _newest_unseen(tx: Tx, conversation_id: int, author_id: int | None, seen: int) -> int | None:
    """The newest message another person wrote here after ``seen`` (customer or agent,
    not a note), or None. A chat follow-up mail is not one: it re-sends by email
    replies the screen already showed, so it must not turn every open composer stale.
    """
    q = (
        sa.select(messages.c.id, messages.c.meta)
        .where(
            messages.c.conversation_id == conversation_id,
            messages.c.direction != Direction.NOTE.value,
            messages.c.id > seen,
        )
        .order_by(messages.c.id.desc())
        .limit(_STALE_SCAN)
    )
    if author_id is not None:
        q = q.where(sa.or_(messages.c.author_id.is_(None), messages.c.author_id != author_id))
    rows = tx.conn.execute(q).all()
    found = [int(r.id) for r in rows if not (r.meta or {}).get("chat_followup")]
    if found:
        return found[0]
    # More follow-ups than the scan holds: stale, to be safe (never seen in practice).
    return int(rows[-1].id) if len(rows) == _STALE_SCAN else None


def send_reply(
    tx: Tx,
    cfg: ActionConfig,
    *,
    conversation_id: int,
    author_id: int | None,
    text: str,
    html: str | None = None,
    channel: Channel | None = None,
    note: bool = False,
    status: ConversationStatus | None = None,
    template: TemplateRef | None = None,
    seen: int | None = None,
    attachments: Sequence[Attachment] = (),
    meta: Mapping[str, Any] | None = None,
) -> ReplyResult:
    """Store a reply (or an internal note) and queue its delivery.

    ``template`` sends an approved provider template (WhatsApp outside the
    24-hour window); ``text`` is then what the customer will read, for the
    timeline.

    ``seen`` is the newest message id the agent's screen showed: when someone
    else has written since, the reply is refused (StaleReply) rather than sent
    against a conversation the agent has not read. Notes are never blocked.

    ``attachments`` are stored with the message in this transaction and sent
    with it; their types are sniffed from the bytes, and a channel that cannot
    take one refuses the whole reply (ActionError) before anything is stored.

    ``meta`` is kept with the message: an automatic reply says which it is
    (``{"auto_reply": "off_hours"}``).
    """
    text = text.strip()
    if not text:
        raise ActionError("a reply needs text")
    files = check_outbound_files(attachments)
    conv = tx.conn.execute(
        sa.select(conversations).where(conversations.c.id == conversation_id)
    ).first()
    if conv is None:
        raise NotFound(f"conversation {conversation_id} not found")
    if seen is not None and not note:
        newest = _newest_unseen(tx, conversation_id, author_id, seen)
        if newest is not None:
            raise StaleReply(newest)
    if channel is None:
        channel = default_reply_channel(
            conv.last_inbound_channel, usable_channels(tx, conv.customer_id)
        )
        if channel is None:
            raise ActionError("the customer cannot be reached on any configured channel")
    # The customer's reachability first: it is what the agent can act on.
    visitors: list[Any] = []
    if note:
        recipient = None
    elif channel is Channel.CHAT:
        # A chat reply goes to the visitors whose widget shows this conversation.
        visitors = reply_visitors(tx, conversation_id, conv.customer_id)
        recipient = str(visitors[0].key)
    else:
        recipient = _recipient(tx, conv.customer_id, channel)
    if template is not None and channel is not Channel.WHATSAPP:
        raise ActionError("approved templates are a WhatsApp feature; write a normal reply")
    if template is not None and files:
        raise ActionError("a template goes out on its own; send files in a normal reply")
    check = None
    if not note:
        try:
            check = check_reply(
                channel,
                text,
                now=tx.now,
                last_inbound_at=last_inbound_at(tx, conv.customer_id, channel),
                template=template is not None,
                attachments=[(f.content_type, f.size) for f in files],
            )
        except ReplyRefused as exc:
            raise ActionError(str(exc)) from exc
    if visitors:  # the chat inbox whose widget the visitor uses
        inbox = tx.conn.execute(
            sa.select(inboxes).where(inboxes.c.id == visitors[0].inbox_id)
        ).first()
    else:
        inbox = None if note else _pick_inbox(tx, conversation_id, channel)
    if not note and inbox is None and channel is not Channel.API:
        raise ActionError(f"no {channel.value} inbox is configured to send from")
    # An API reply with nowhere to push it is read by the API caller, and a chat
    # reply is the visitor's next event: each is "sent" the moment it is stored.
    push = (
        not note
        and channel is not Channel.CHAT
        and (channel is not Channel.API or bool(inbox and inbox.config.get("webhook_url")))
    )
    status_now = DeliveryStatus.QUEUED if push else DeliveryStatus.SENT
    message_id: int = tx.conn.execute(
        messages.insert().returning(messages.c.id),
        {
            "conversation_id": conversation_id,
            "customer_id": conv.customer_id,
            "inbox_id": inbox.id if inbox is not None else None,
            "direction": (Direction.NOTE if note else Direction.OUTBOUND).value,
            "channel": channel.value,
            "author_type": AuthorType.AGENT.value if author_id else AuthorType.SYSTEM.value,
            "author_id": author_id,
            "text": text,
            "full_text": None,
            "html": html,
            "provider_message_id": None,
            "recipient": recipient,
            "status": status_now.value,
            "error": None,
            "meta": {
                **(meta or {}),
                **({"template": template.as_dict()} if template is not None else {}),
            },
            "created_at": tx.now,
            "sent_at": None if push else tx.now,
        },
    ).scalar_one()
    if channel is Channel.EMAIL and inbox is not None:
        domain = str(inbox.address).rpartition("@")[2]
        tx.conn.execute(
            messages.update()
            .where(messages.c.id == message_id)
            .values(provider_message_id=new_message_id(domain))
        )
    store_attachments(tx, cfg, message_id, files)
    if not note:
        _mark_switch(tx, conv.customer_id, conversation_id, channel, message_id)
    add_entry(
        tx,
        customer_id=conv.customer_id,
        conversation_id=conversation_id,
        kind="note" if note else "message",
        message_id=message_id,
        data={"direction": "note" if note else "outbound", "channel": channel.value},
    )
    touched: dict[str, Any] = {"last_activity_at": tx.now, "updated_at": tx.now}
    changed = ["last_activity"] if note else ["last_activity", "last_message"]
    # An agent answered: nobody waits any more. A note answers no one, and a
    # system auto-reply (the off-hours acknowledgement) leaves the customer waiting.
    if not note and author_id is not None and conv.waiting_since is not None:
        touched["waiting_since"] = None
        touched["first_response_due_at"] = None
        touched["next_response_due_at"] = None
        changed.append("waiting_since")
    if not note and author_id is not None:
        touched["last_agent_at"] = tx.now  # time_passed rules: hours since the agent
    if not note and author_id is not None and conv.first_response_at is None:
        touched["first_response_at"] = tx.now  # later waits are owed a next response
    tx.conn.execute(
        conversations.update().where(conversations.c.id == conversation_id).values(**touched)
    )
    if "waiting_since" in touched:
        sync_clocks(tx, conversation_id)  # answered: the response clock's timers stop
    if visitors:
        # After the conversation's row lock, as everywhere (actions/chat_hooks.py), and
        # before a resolution, so the widget shows the answer before it asks for a rating.
        deliver_reply(tx, cfg, visitors, conversation_id, message_id)
    if seen is not None and not note and author_id is not None:
        # An answer written against a screen that showed everything anyone else wrote
        # (the stale check above) is a read: the agent's unread marker clears, and a
        # chat visitor sees "Seen" under what was answered, not only under what was
        # there when the agent opened the page.
        mark_read(tx, conversation_id, author_id)
    if status is not None and change_status(tx, conversation_id, status, actor_id=author_id):
        changed.append("status")
    tx.emit(ConversationChanged(conversation_id, tuple(changed)))
    if push:
        queue_delivery(
            tx, message_id, conversation_id, channel.value, attempts=cfg.delivery_attempts
        )
    warnings = check.warnings if check is not None else ()
    return ReplyResult(message_id, channel, recipient, status_now.value, warnings)


def _mark_switch(
    tx: Tx, customer_id: int, conversation_id: int, channel: Channel, message_id: int
) -> None:
    """A reply on another channel than the last message gets the same visible
    marker an inbound switch gets (actions/inbound.py)."""
    previous = tx.conn.execute(
        sa.select(messages.c.channel)
        .where(
            messages.c.conversation_id == conversation_id,
            messages.c.direction != Direction.NOTE.value,
            messages.c.id < message_id,
        )
        .order_by(messages.c.id.desc())
        .limit(1)
    ).scalar()
    if previous is not None and previous != channel.value:
        add_entry(
            tx,
            customer_id=customer_id,
            conversation_id=conversation_id,
            kind="channel_switched",
            data={"from": previous, "to": channel.value},
        )
