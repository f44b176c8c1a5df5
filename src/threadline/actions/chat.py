"""Live-chat visitors: their sessions, what they tell us, and their ordered events.

A visitor is one browser's chat on one chat inbox (docs/widget.md). Every event
the widget shows is a ``chat_events`` row whose ``seq`` comes from the visitor
row's counter, incremented in the transaction that stores the event: the row
lock makes seq order commit order on PostgreSQL (SQLite has one writer), so
"every event after seq N" is exact for a reconnecting widget.

The hooks that turn messages, replies, resolutions and agents' reads into
events live in actions/chat_hooks.py.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from threadline.actions.customers import claim_identity
from threadline.actions.delivery import set_delivery_status
from threadline.actions.errors import ActionError, NotFound
from threadline.actions.timeline import add_entry
from threadline.channels.checks import clean_text
from threadline.core.events import ChatEventAdded
from threadline.core.identity import InvalidIdentity, normalize_email
from threadline.core.model import DeliveryStatus, Direction, IdentityRef
from threadline.storage import chat as chat_store
from threadline.storage.db import Tx
from threadline.storage.sql import Statement, db_bool, db_time, run
from threadline.storage.tables import (
    chat_events,
    chat_visitors,
    conversations,
    identities,
    messages,
)

__all__ = [
    "EVENT_KINDS",
    "Session",
    "VerifiedIdentity",
    "append_event",
    "mark_delivered",
    "open_session",
    "record_csat",
    "record_event",
    "set_profile",
    "token_digest",
    "touch_visitor",
    "visitor_customer",
    "visitor_read",
]

EVENT_KINDS = ("message", "resolved", "csat")
MAX_NAME = 200
MAX_COMMENT = 1000
MAX_ORIGIN = 300


def token_digest(token: str) -> str:
    """What is stored of a session token: a leak of the table hands out no sessions."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """A signed-in user the business vouched for (its HMAC was checked at the edge)."""

    user_id: str
    email: str  # normalized
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Session:
    visitor_id: int
    key: str  # public: the value of the visitor's chat: identity
    token: str  # secret: the widget keeps it; only its digest is stored
    new: bool


def _visitor(tx: Tx, visitor_id: int) -> Any:
    row = tx.conn.execute(sa.select(chat_visitors).where(chat_visitors.c.id == visitor_id)).first()
    if row is None:
        raise NotFound(f"chat visitor {visitor_id} not found")
    return row


# On the driver's cursor: every widget that connects runs these (storage/sql.py).
_FIND_VISITOR = Statement(
    "SELECT id, key, verified, external_id FROM chat_visitors "
    "WHERE token_hash = :token_hash AND inbox_id = :inbox_id"
)
_INSERT_VISITOR = Statement(
    "INSERT INTO chat_visitors (inbox_id, key, token_hash, last_seq, visitor_read_seq, "
    "agent_read_seq, verified, created_at, last_seen_at, origin) VALUES (:inbox_id, :key, "
    ":token_hash, 0, 0, 0, :verified, :now, :now, :origin) RETURNING id"
)
_SEEN = Statement(
    "UPDATE chat_visitors SET last_seen_at = :now, origin = COALESCE(:origin, origin) "
    "WHERE id = :id"
)


def _new_visitor(tx: Tx, inbox_id: int, origin: str | None) -> Session:
    key = secrets.token_hex(12)
    token = secrets.token_urlsafe(32)
    params = {
        "inbox_id": inbox_id,
        "key": key,
        "token_hash": token_digest(token),
        "verified": db_bool(tx, False),
        "now": db_time(tx, tx.now),
        "origin": origin,
    }
    visitor_id = int(run(tx, _INSERT_VISITOR, params).fetchone()[0])
    return Session(visitor_id, key, token, True)


def open_session(
    tx: Tx,
    *,
    inbox_id: int,
    token: str | None,
    identity: VerifiedIdentity | None = None,
    origin: str | None = None,
) -> Session:
    """Resume the visitor ``token`` names on this inbox, or start a new one.

    A verified identity is applied to the visitor. When the browser's visitor was
    verified as someone else (another person signed in on a shared computer), that
    person gets a visitor of their own: their chat must never join the other's.
    ``origin`` is the page's (already checked against the inbox's allowed origins):
    a follow-up mail links back to it.
    """
    row = None
    if token:
        row = run(
            tx, _FIND_VISITOR, {"token_hash": token_digest(token), "inbox_id": inbox_id}
        ).fetchone()
    if row is not None and identity is not None and row[2] and row[3] != identity.user_id:
        row = None
    page = origin[:MAX_ORIGIN] if origin else None
    if row is None:
        session = _new_visitor(tx, inbox_id, page)  # seen now, from this page
    else:
        assert token is not None
        session = Session(row[0], row[1], token, False)
        if identity is None:
            run(tx, _SEEN, {"id": session.visitor_id, "now": db_time(tx, tx.now), "origin": page})
    if identity is not None:  # a signed-in visitor: one update says who, seen now
        values: dict[str, Any] = {
            "external_id": identity.user_id,
            "email": identity.email,
            "verified": True,
            "last_seen_at": tx.now,
        }
        if page:
            values["origin"] = page
        if identity.name:
            values["name"] = _name(identity.name)
        tx.conn.execute(
            chat_visitors.update().where(chat_visitors.c.id == session.visitor_id).values(**values)
        )
    return session


def _name(raw: str) -> str | None:
    name = " ".join(clean_text(raw).split())[:MAX_NAME]
    return name or None


def visitor_customer(tx: Tx, key: str) -> int | None:
    """The customer whose ``chat:<key>`` identity this is (it follows merges), or
    None before the visitor's first message."""
    found = tx.conn.execute(
        sa.select(identities.c.customer_id).where(
            identities.c.kind == "chat", identities.c.value == key
        )
    ).scalar()
    return None if found is None else int(found)


def set_profile(tx: Tx, visitor_id: int, *, name: str | None, email: str | None) -> None:
    """The pre-chat or offline form: a name and a claimed email.

    None leaves a field as it is; an empty string clears it. A verified visitor's
    email comes from the business's signed identity and is not replaced by a typed one.
    The email is sent as a claimed identity with the visitor's next message; a
    visitor who already has a customer record gets it there at once, so a reply
    mailed after their last message reaches them and their answer by email is
    theirs. An email on someone else's record is a merge suggestion, never a merge.
    """
    row = _visitor(tx, visitor_id)
    values: dict[str, Any] = {"last_seen_at": tx.now}
    if name is not None:
        values["name"] = _name(name)
    if email is not None and email.strip():
        try:
            address = normalize_email(clean_text(email))
        except InvalidIdentity as exc:
            raise ActionError("that does not look like an email address") from exc
        if row.verified and address != row.email:
            raise ActionError("you are signed in: your email comes from your account")
        values["email"] = address
    elif email is not None and not row.verified:
        values["email"] = None
    tx.conn.execute(chat_visitors.update().where(chat_visitors.c.id == visitor_id).values(**values))
    claimed = values.get("email")
    if claimed and not row.verified:
        customer_id = visitor_customer(tx, row.key)
        if customer_id is not None:
            claim_identity(tx, customer_id, IdentityRef("email", claimed, verified=False))


def touch_visitor(tx: Tx, visitor_id: int) -> None:
    """The visitor's widget was heard from (its keep-alive, a REST poll): they are
    still on the page, so a reply is not mailed to them yet."""
    tx.conn.execute(
        chat_visitors.update().where(chat_visitors.c.id == visitor_id).values(last_seen_at=tx.now)
    )


def append_event(
    tx: Tx,
    visitor_id: int,
    kind: str,
    *,
    message_id: int | None = None,
    client_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Add the visitor's next event; returns its seq.

    The seq comes from the visitor row's counter under its row lock, in this
    transaction: two events of one visitor can neither share a seq nor commit
    out of seq order.
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown chat event kind {kind!r}")
    seq = chat_store.next_seq(tx, visitor_id)
    if seq is None:
        raise NotFound(f"chat visitor {visitor_id} not found")
    record_event(tx, visitor_id, seq, kind, message_id=message_id, client_id=client_id, data=data)
    return seq


def record_event(
    tx: Tx,
    visitor_id: int,
    seq: int,
    kind: str,
    *,
    message_id: int | None = None,
    client_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Store an event under a seq taken from the visitor's counter in this transaction."""
    chat_store.insert_event(
        tx,
        visitor_id=visitor_id,
        seq=seq,
        kind=kind,
        message_id=message_id,
        client_id=client_id,
        data=data or {},
    )
    tx.emit(ChatEventAdded(visitor_id, seq))


def _outbound_on_events(
    tx: Tx, visitor_id: int, statuses: Iterable[DeliveryStatus], *, up_to: int | None = None
) -> list[int]:
    """The agents' messages among the visitor's events that are still in ``statuses``."""
    query = (
        sa.select(messages.c.id)
        .join(chat_events, chat_events.c.message_id == messages.c.id)
        .where(
            chat_events.c.visitor_id == visitor_id,
            messages.c.direction == Direction.OUTBOUND.value,
            messages.c.status.in_([s.value for s in statuses]),
        )
        .order_by(chat_events.c.seq)
    )
    if up_to is not None:
        query = query.where(chat_events.c.seq <= up_to)
    return [int(i) for i in tx.conn.execute(query).scalars()]


def visitor_read(tx: Tx, visitor_id: int, seq: int) -> list[int]:
    """The visitor has seen every event up to ``seq``: agents' messages up to it are
    ``read`` (their ticks update). Returns the messages that changed."""
    row = _visitor(tx, visitor_id)
    seq = min(seq, row.last_seq)  # a widget cannot have seen what does not exist yet
    if seq <= row.visitor_read_seq:
        return []
    tx.conn.execute(
        chat_visitors.update()
        .where(chat_visitors.c.id == visitor_id)
        .values(visitor_read_seq=seq, last_seen_at=tx.now)
    )
    waiting = (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
    ids = _outbound_on_events(tx, visitor_id, waiting, up_to=seq)
    return [i for i in ids if set_delivery_status(tx, i, DeliveryStatus.READ)]


def mark_delivered(tx: Tx, visitor_id: int, message_ids: Iterable[int]) -> list[int]:
    """A visitor's widget has been sent these agent messages: ``delivered``."""
    wanted = set(message_ids)
    if not wanted:
        return []
    ids = _outbound_on_events(tx, visitor_id, (DeliveryStatus.SENT,))
    return [i for i in ids if i in wanted and set_delivery_status(tx, i, DeliveryStatus.DELIVERED)]


def record_csat(tx: Tx, visitor_id: int, score: int, comment: str | None) -> int:
    """The visitor rates the chat that was just resolved: a ``csat`` event for the
    widget and a ``csat`` entry on the conversation's timeline. One rating per
    resolution; returns the event's seq."""
    if not 1 <= score <= 5:
        raise ActionError("a rating is 1 to 5")
    row = _visitor(tx, visitor_id)
    last = dict(
        tx.conn.execute(
            sa.select(chat_events.c.kind, sa.func.max(chat_events.c.seq))
            .where(
                chat_events.c.visitor_id == visitor_id,
                chat_events.c.kind.in_(("resolved", "csat")),
            )
            .group_by(chat_events.c.kind)
        ).all()
    )
    resolved, rated = last.get("resolved"), last.get("csat")
    if row.conversation_id is None or resolved is None or (rated is not None and rated > resolved):
        raise ActionError("there is no finished chat to rate")
    customer_id = tx.conn.execute(
        sa.select(conversations.c.customer_id).where(conversations.c.id == row.conversation_id)
    ).scalar_one()
    text = " ".join(clean_text(comment).split())[:MAX_COMMENT] if comment else ""
    data: dict[str, Any] = {"score": score, "comment": text or None}
    seq = append_event(tx, visitor_id, "csat", data=data)
    add_entry(
        tx,
        customer_id=customer_id,
        conversation_id=row.conversation_id,
        kind="csat",
        data={**data, "channel": "chat"},
    )
    return seq
