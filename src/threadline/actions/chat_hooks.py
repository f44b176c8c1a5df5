"""Where live chat joins the one path every channel takes (docs/widget.md).

A visitor's message comes in through ``bus.ingest`` and ``receive_inbound`` like
any channel's; ``on_visitor_message`` then records it as the visitor's next
event and binds the visitor to the conversation and customer it was placed in.
An agent's chat reply is stored by ``send_reply`` and becomes the visitor's next
event at once (there is no provider to deliver it); a job checks later whether
the visitor read it, and mails it if they left (actions/chat_mail.py). A
visitor's message schedules the missed-chat alert (actions/chat_missed.py). A
message the visitor's own customer sends on another channel into the chat's
conversation (their answer to the follow-up mail) joins their events too. A
resolution becomes a ``resolved`` event (the widget asks for a rating), and an
agent reading the conversation moves the visitor's read marker.

Every function runs inside the caller's transaction and takes the visitor row
lock after the conversation's, as the callers already hold that one: the same
order everywhere, so two of them cannot deadlock on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from threadline.actions.attachments import check_outbound_files, store_attachments
from threadline.actions.chat import append_event, record_event
from threadline.actions.chat_mail import schedule_followup
from threadline.actions.chat_missed import schedule_missed
from threadline.actions.chat_uploads import pending_uploads, upload_attachment
from threadline.actions.config import ActionConfig
from threadline.actions.errors import ActionError
from threadline.core.events import ChatEventAdded, ChatReadByAgent
from threadline.core.model import InboundMessage
from threadline.storage import chat as store
from threadline.storage.db import Tx
from threadline.storage.tables import chat_visitors, identities, inbound_receipts

__all__ = [
    "MAX_BOUND_VISITORS",
    "deliver_reply",
    "on_agent_read",
    "on_customer_message",
    "on_resolved",
    "on_visitor_message",
    "rebind_visitors",
    "reply_visitors",
]

# Browsers of one customer bound to one conversation that a reply reaches (a
# signed-in customer on a phone and a laptop); more is noise, not people.
MAX_BOUND_VISITORS = 10


def on_visitor_message(
    tx: Tx,
    cfg: ActionConfig,
    inbox_id: int,
    msg: InboundMessage,
    *,
    message_id: int,
    conversation_id: int,
    customer_id: int,
) -> None:
    """Record a stored chat message as its visitor's event; link its uploads."""
    key = str(msg.meta.get("chat_visitor") or "")
    cid = msg.meta.get("chat_cid")
    found = store.bind_visitor_next_seq(
        tx, inbox_id=inbox_id, key=key, conversation_id=conversation_id, customer_id=customer_id
    )
    if found is None:
        raise ActionError(f"no chat visitor {key!r} on inbox {inbox_id}")
    visitor_id, seq = found
    uploads = [str(u) for u in msg.meta.get("chat_uploads") or ()]
    if uploads:
        _attach_uploads(tx, cfg, inbox_id, key, uploads, message_id)
    record_event(
        tx, visitor_id, seq, "message", message_id=message_id, client_id=str(cid) if cid else None
    )
    tx.emit(ChatEventAdded(visitor_id, seq))
    schedule_missed(tx, conversation_id, inbox_id)


def on_customer_message(tx: Tx, conversation_id: int, customer_id: int, message_id: int) -> None:
    """A message on another channel (an email answering the follow-up mail) is
    also the next event of each visitor whose widget shows this conversation and
    who is that same customer: back on the page, they see the whole exchange.
    Nobody else's message ever reaches a visitor's widget."""
    bound = tx.conn.execute(
        sa.select(chat_visitors.c.id)
        .where(
            chat_visitors.c.customer_id == customer_id,
            chat_visitors.c.conversation_id == conversation_id,
        )
        .order_by(chat_visitors.c.id)
        .limit(MAX_BOUND_VISITORS)
    ).scalars()
    for visitor_id in list(bound):
        append_event(tx, visitor_id, "message", message_id=message_id)


def _attach_uploads(
    tx: Tx, cfg: ActionConfig, inbox_id: int, key: str, upload_ids: list[str], message_id: int
) -> None:
    rows = pending_uploads(tx, inbox_id, key, upload_ids)
    files = check_outbound_files([upload_attachment(r) for r in rows])
    store_attachments(tx, cfg, message_id, files)
    tx.conn.execute(
        inbound_receipts.update()
        .where(inbound_receipts.c.id.in_([r.id for r in rows]))
        .values(status="processed", error=None, message_id=message_id, processed_at=tx.now)
    )


def reply_visitors(tx: Tx, conversation_id: int, customer_id: int) -> list[Any]:
    """The visitors a chat reply in this conversation goes to, most recently seen first.

    Those whose widget shows the conversation; when none does (it started on
    another channel), the visitor behind the customer's chat identity.
    Raises ActionError when the customer has never chatted.
    """
    columns = (chat_visitors.c.id, chat_visitors.c.key, chat_visitors.c.inbox_id)
    recent = (chat_visitors.c.last_seen_at.desc().nulls_last(), chat_visitors.c.id.desc())
    rows = list(
        tx.conn.execute(
            sa.select(*columns)
            .where(chat_visitors.c.conversation_id == conversation_id)
            .order_by(*recent)
            .limit(MAX_BOUND_VISITORS)
        )
    )
    if rows:
        return rows
    keys = (
        sa.select(identities.c.value)
        .where(identities.c.customer_id == customer_id, identities.c.kind == "chat")
        .scalar_subquery()
    )
    found = tx.conn.execute(
        sa.select(*columns).where(chat_visitors.c.key.in_(keys)).order_by(*recent).limit(1)
    ).first()
    if found is None:
        raise ActionError("the customer has no chat identity, so no chat reply")
    return [found]


def deliver_reply(
    tx: Tx, cfg: ActionConfig, visitors: list[Any], conversation_id: int, message_id: int
) -> None:
    """A chat reply is the next event of each visitor it goes to, now; their widget
    then shows this conversation, so their next message continues it. Each gets a
    follow-up check: a reply left unread by a visitor who has gone is mailed."""
    for visitor in visitors:
        seq = append_event(tx, visitor.id, "message", message_id=message_id)
        schedule_followup(tx, cfg, visitor.id, seq)
    tx.conn.execute(
        chat_visitors.update()
        .where(chat_visitors.c.id.in_([v.id for v in visitors]))
        .values(conversation_id=conversation_id)
    )


def on_resolved(tx: Tx, conversation_id: int) -> None:
    """The conversation was resolved: each visitor showing it gets a ``resolved`` event."""
    bound = tx.conn.execute(
        sa.select(chat_visitors.c.id)
        .where(chat_visitors.c.conversation_id == conversation_id)
        .order_by(chat_visitors.c.id)
        .limit(MAX_BOUND_VISITORS)
    ).scalars()
    for visitor_id in list(bound):
        append_event(tx, visitor_id, "resolved")


def on_agent_read(tx: Tx, conversation_id: int) -> None:
    """An agent has read the conversation: its visitors' chats are read up to now."""
    changed = tx.conn.execute(
        chat_visitors.update()
        .where(
            chat_visitors.c.conversation_id == conversation_id,
            chat_visitors.c.agent_read_seq < chat_visitors.c.last_seq,
        )
        .values(agent_read_seq=chat_visitors.c.last_seq)
        .returning(chat_visitors.c.id, chat_visitors.c.last_seq)
    ).all()
    for visitor_id, seq in changed:
        tx.emit(ChatReadByAgent(int(visitor_id), int(seq)))


def rebind_visitors(tx: Tx, source_id: int, target_id: int) -> None:
    """A conversation was merged into another: widgets showing it now show the target,
    so the visitor's next message continues there, not in the emptied source."""
    tx.conn.execute(
        chat_visitors.update()
        .where(chat_visitors.c.conversation_id == source_id)
        .values(conversation_id=target_id)
    )
