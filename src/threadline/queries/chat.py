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

from threadline.actions.chat_uploads import UPLOAD_SOURCE, upload_key
from threadline.core.model import Channel
from threadline.queries.assignment import on_shift_now
from threadline.queries.scope import load_scope
from threadline.storage.sql import Statement, fetch, json_value
from threadline.storage.tables import (
    as_utc,
    attachments,
    chat_events,
    inbound_receipts,
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


# These run on the event loop for every chat message and every socket that wakes
# for it, so they are driver statements (storage/sql.py): as prebuilt Core they
# were about a tenth of the server's GIL time in bench/widget.py.
_STATE_BY_ID = Statement(
    "SELECT id, inbox_id, key, name, email, external_id, verified, conversation_id, "
    "last_seq, visitor_read_seq, agent_read_seq FROM chat_visitors WHERE id = :visitor_id"
)
_STATE_BY_TOKEN = Statement(
    "SELECT id, inbox_id, key, name, email, external_id, verified, conversation_id, "
    "last_seq, visitor_read_seq, agent_read_seq FROM chat_visitors WHERE token_hash = :digest"
)


def _state(rows: list[Any]) -> VisitorState | None:
    if not rows:
        return None
    r = rows[0]
    return VisitorState._make((*r[:6], bool(r[6]), *r[7:]))  # verified: 0 or 1 on SQLite


def visitor_state(conn: Connection, visitor_id: int) -> VisitorState | None:
    return _state(fetch(conn, _STATE_BY_ID, {"visitor_id": visitor_id}))


def visitor_by_token(conn: Connection, token_digest: str) -> VisitorState | None:
    """The visitor whose session token has this digest (actions.chat.token_digest)."""
    return _state(fetch(conn, _STATE_BY_TOKEN, {"digest": token_digest}))


# Most chat messages carry no file: the file query runs only for those that do.
_EVENTS_AFTER = Statement(
    "SELECT e.seq, e.kind, e.created_at, e.data, e.client_id, e.message_id, "
    "m.direction, m.author_type, u.name, m.text, m.status, "
    "EXISTS (SELECT 1 FROM attachments a WHERE a.message_id = e.message_id) AS has_files "
    "FROM chat_events e "
    "LEFT OUTER JOIN messages m ON m.id = e.message_id "
    "LEFT OUTER JOIN users u ON u.id = m.author_id "
    "WHERE e.visitor_id = :visitor_id AND e.seq > :since "
    "ORDER BY e.seq LIMIT :limit"
)


def events_after(
    conn: Connection, visitor_id: int, since: int, limit: int = MAX_PAGE
) -> list[ChatEvent]:
    """The visitor's events with seq > ``since``, oldest first, at most ``limit`` (≤ 200)."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = fetch(conn, _EVENTS_AFTER, {"visitor_id": visitor_id, "since": since, "limit": limit})
    files = _files(conn, [r[5] for r in rows if r[5] is not None and r[11]])
    events = []
    for seq, kind, created, data, cid, message_id, direction, author, name, text, status, _ in rows:
        at = as_utc(created)
        assert at is not None
        events.append(
            ChatEvent(
                seq=int(seq),
                kind=kind,
                at=at,
                data=dict(json_value(conn, data) or {}),
                cid=cid,
                message_id=message_id,
                direction=direction,
                author_type=author,
                author_name=name,
                text=text,
                status=status,
                attachments=tuple(files.get(message_id, ())) if message_id else (),
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


_EVENT_SEQ = Statement(
    "SELECT seq FROM chat_events WHERE visitor_id = :visitor_id AND message_id = :message_id"
)


def event_seq(conn: Connection, visitor_id: int, message_id: int) -> int | None:
    """The seq a stored message got as the visitor's event (what an ack carries)."""
    rows = fetch(conn, _EVENT_SEQ, {"visitor_id": visitor_id, "message_id": message_id})
    return int(rows[0][0]) if rows else None


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
