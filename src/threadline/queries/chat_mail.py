"""What chat mail is made of: a visitor's messages, read back as lines of chat.

The follow-up mail reads the agents' replies a visitor has not seen; the
transcript reads the whole chat. Both read the visitor's events (what their
widget showed, in its order), never the conversation: a conversation may hold
other channels and other people, a visitor's events are theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.core.chat_mail import ChatLine
from threadline.storage.tables import as_utc, attachments, chat_events, messages, users

__all__ = ["MAX_LINES", "MailLine", "chat_lines", "visitor_messages"]

MAX_LINES = 500  # messages in one mail: the newest, when a chat ran longer


class MailLine(NamedTuple):
    seq: int
    at: datetime
    message_id: int
    conversation_id: int
    direction: str  # inbound (the visitor's) | outbound (an agent's or the system's)
    author_type: str
    author_id: int | None
    author_name: str | None
    text: str
    files: tuple[str, ...]


def visitor_messages(
    conn: Connection,
    visitor_id: int,
    *,
    after: int = 0,
    upto: int | None = None,
    replies_only: bool = False,
    limit: int = MAX_LINES,
) -> list[MailLine]:
    """The visitor's message events with ``after`` < seq ≤ ``upto``, oldest first;
    the newest ``limit`` of them (≤ MAX_LINES). ``replies_only``: the agents' side."""
    limit = max(1, min(limit, MAX_LINES))
    query = (
        sa.select(
            chat_events.c.seq,
            chat_events.c.created_at,
            messages.c.id,
            messages.c.conversation_id,
            messages.c.direction,
            messages.c.author_type,
            messages.c.author_id,
            users.c.name,
            messages.c.text,
        )
        .select_from(chat_events)
        .join(messages, messages.c.id == chat_events.c.message_id)
        .outerjoin(users, users.c.id == messages.c.author_id)
        .where(
            chat_events.c.visitor_id == visitor_id,
            chat_events.c.kind == "message",
            chat_events.c.seq > after,
        )
        .order_by(chat_events.c.seq.desc())
        .limit(limit)
    )
    if upto is not None:
        query = query.where(chat_events.c.seq <= upto)
    if replies_only:
        query = query.where(messages.c.direction == "outbound")
    rows = list(reversed(conn.execute(query).all()))
    files = _file_names(conn, [r.id for r in rows])
    found = []
    for r in rows:
        at = as_utc(r.created_at)
        assert at is not None
        found.append(
            MailLine(
                seq=int(r.seq),
                at=at,
                message_id=int(r.id),
                conversation_id=int(r.conversation_id),
                direction=r.direction,
                author_type=r.author_type,
                author_id=r.author_id,
                author_name=r.name,
                text=r.text,
                files=files.get(int(r.id), ()),
            )
        )
    return found


def _file_names(conn: Connection, message_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    if message_ids:
        for message_id, name in conn.execute(
            sa.select(attachments.c.message_id, attachments.c.filename)
            .where(attachments.c.message_id.in_(message_ids), attachments.c.inline.is_(False))
            .order_by(attachments.c.id)
        ):
            found.setdefault(int(message_id), []).append(str(name))
    return {k: tuple(v) for k, v in found.items()}


def chat_lines(rows: Sequence[MailLine], *, visitor: str | None, business: str) -> list[ChatLine]:
    """Who said what, as the reader of the mail (the visitor) knows them: themselves
    as "You" (or their name, for a transcript someone may forward), an agent by
    name, anything automatic as the business."""
    lines = []
    for r in rows:
        if r.direction == "inbound":
            who = visitor or "You"
        elif r.author_type == "agent" and r.author_name:
            who = r.author_name
        else:
            who = business
        lines.append(ChatLine(who=who, at=r.at, text=r.text, files=r.files))
    return lines
