"""The widget's read side: a visitor's session and the events after a seq.

Events are read from the database, never taken from a push: a socket that is
woken reads every event after the last one it sent, so what a visitor sees is
exact and in order whatever was dropped or replayed on the way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.actions.chat import UPLOAD_SOURCE, upload_key
from threadline.core.model import Channel
from threadline.queries.assignment import on_shift_now
from threadline.queries.scope import load_scope
from threadline.storage.tables import (
    as_utc,
    attachments,
    chat_events,
    chat_visitors,
    inbound_receipts,
    messages,
    users,
)

__all__ = [
    "MAX_PAGE",
    "ChatEvent",
    "VisitorState",
    "can_answer",
    "chat_attachment",
    "event_seq",
    "events_after",
    "missing_uploads",
    "visitor_by_token",
    "visitor_state",
]

MAX_PAGE = 200  # events per read (docs/widget.md: at most 200 per batch)


class VisitorState(NamedTuple):
    id: int
    inbox_id: int
    key: str
    name: str | None
    email: str | None
    external_id: str | None
    verified: bool
    conversation_id: int | None
    last_seq: int
    visitor_read_seq: int
    agent_read_seq: int


class ChatEvent(NamedTuple):
    seq: int
    kind: str
    at: datetime
    data: dict[str, Any]
    cid: str | None
    message_id: int | None
    direction: str | None  # inbound | outbound, for a message
    author_type: str | None
    author_name: str | None
    text: str | None
    status: str | None
    attachments: tuple[dict[str, Any], ...]  # {id, name, type, size}


_STATE = sa.select(
    chat_visitors.c.id,
    chat_visitors.c.inbox_id,
    chat_visitors.c.key,
    chat_visitors.c.name,
    chat_visitors.c.email,
    chat_visitors.c.external_id,
    chat_visitors.c.verified,
    chat_visitors.c.conversation_id,
    chat_visitors.c.last_seq,
    chat_visitors.c.visitor_read_seq,
    chat_visitors.c.agent_read_seq,
)


def _state(row: Any) -> VisitorState | None:
    return None if row is None else VisitorState(*row)


# Built once, with bind parameters: a statement object keeps its cache key, and
# these run for every chat message (building one per call was a tenth of the
# server's time in bench/widget.py).
_STATE_BY_ID = _STATE.where(chat_visitors.c.id == sa.bindparam("visitor_id"))


def visitor_state(conn: Connection, visitor_id: int) -> VisitorState | None:
    return _state(conn.execute(_STATE_BY_ID, {"visitor_id": visitor_id}).first())


def visitor_by_token(conn: Connection, token_digest: str) -> VisitorState | None:
    """The visitor whose session token has this digest (actions.chat.token_digest)."""
    return _state(conn.execute(_STATE.where(chat_visitors.c.token_hash == token_digest)).first())


_EVENTS = (
    sa.select(
        chat_events.c.seq,
        chat_events.c.kind,
        chat_events.c.created_at,
        chat_events.c.data,
        chat_events.c.client_id,
        chat_events.c.message_id,
        messages.c.direction,
        messages.c.author_type,
        users.c.name,
        messages.c.text,
        messages.c.status,
        # Most chat messages carry no file: the file query runs only for those that do.
        sa.exists().where(attachments.c.message_id == chat_events.c.message_id).label("has_files"),
    )
    .select_from(chat_events)
    .outerjoin(messages, messages.c.id == chat_events.c.message_id)
    .outerjoin(users, users.c.id == messages.c.author_id)
)


_EVENTS_AFTER = (
    _EVENTS.where(
        chat_events.c.visitor_id == sa.bindparam("visitor_id"),
        chat_events.c.seq > sa.bindparam("since"),
    )
    .order_by(chat_events.c.seq)
    .limit(sa.bindparam("limit", type_=sa.Integer()))
)


def events_after(
    conn: Connection, visitor_id: int, since: int, limit: int = MAX_PAGE
) -> list[ChatEvent]:
    """The visitor's events with seq > ``since``, oldest first, at most ``limit`` (≤ 200)."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = conn.execute(
        _EVENTS_AFTER, {"visitor_id": visitor_id, "since": since, "limit": limit}
    ).all()
    files = _files(conn, [r.message_id for r in rows if r.message_id is not None and r.has_files])
    events = []
    for r in rows:
        at = as_utc(r.created_at)
        assert at is not None
        events.append(
            ChatEvent(
                seq=int(r.seq),
                kind=r.kind,
                at=at,
                data=dict(r.data or {}),
                cid=r.client_id,
                message_id=r.message_id,
                direction=r.direction,
                author_type=r.author_type,
                author_name=r.name,
                text=r.text,
                status=r.status,
                attachments=tuple(files.get(r.message_id, ())) if r.message_id else (),
            )
        )
    return events


def _files(conn: Connection, message_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    if not message_ids:
        return found
    for a in conn.execute(
        sa.select(
            attachments.c.id,
            attachments.c.message_id,
            attachments.c.filename,
            attachments.c.content_type,
            attachments.c.size,
        )
        .where(attachments.c.message_id.in_(message_ids), attachments.c.inline.is_(False))
        .order_by(attachments.c.id)
    ):
        found.setdefault(a.message_id, []).append(
            {"id": a.id, "name": a.filename, "type": a.content_type, "size": a.size}
        )
    return found


_EVENT_SEQ = sa.select(chat_events.c.seq).where(
    chat_events.c.visitor_id == sa.bindparam("visitor_id"),
    chat_events.c.message_id == sa.bindparam("message_id"),
)


def event_seq(conn: Connection, visitor_id: int, message_id: int) -> int | None:
    """The seq a stored message got as the visitor's event (what an ack carries)."""
    seq = conn.execute(_EVENT_SEQ, {"visitor_id": visitor_id, "message_id": message_id}).scalar()
    return None if seq is None else int(seq)


def missing_uploads(
    conn: Connection, inbox_id: int, visitor_key: str, upload_ids: Sequence[str]
) -> list[str]:
    """Which of these are not the visitor's uploads waiting for a message."""
    if not upload_ids:
        return []
    keys = {upload_key(visitor_key, u): u for u in upload_ids}
    found = set(
        conn.execute(
            sa.select(inbound_receipts.c.provider_message_id).where(
                inbound_receipts.c.inbox_id == inbox_id,
                inbound_receipts.c.source == UPLOAD_SOURCE,
                inbound_receipts.c.provider_message_id.in_(list(keys)),
                inbound_receipts.c.message_id.is_(None),
            )
        ).scalars()
    )
    return [u for k, u in keys.items() if k not in found]


def chat_attachment(conn: Connection, attachment_id: int) -> Any | None:
    """A file of a message some visitor's widget shows (either side's), or None."""
    shown = sa.exists(
        sa.select(chat_events.c.seq).where(chat_events.c.message_id == attachments.c.message_id)
    )
    return conn.execute(
        sa.select(attachments).where(attachments.c.id == attachment_id, shown)
    ).first()


def can_answer(conn: Connection, user_ids: Sequence[int], inbox_id: int, now: datetime) -> bool:
    """Whether any of these (online) users is an active agent or admin who sees the
    inbox and whose shifts cover chat now (core/shifts.py: no shifts, always)."""
    if not user_ids:
        return False
    rows = conn.execute(
        sa.select(users.c.id, users.c.role).where(
            users.c.id.in_(sorted(user_ids)[:500]),
            users.c.role.in_(("admin", "agent")),
            users.c.deactivated_at.is_(None),
        )
    ).all()
    seeing = [r.id for r in rows if load_scope(conn, r.id, r.role).allows_inbox(inbox_id)]
    return bool(seeing) and bool(on_shift_now(conn, seeing, Channel.CHAT.value, now))
