"""Inbox rows for a handful of conversation ids: the one shape the inbox page, the
API and the realtime push all render.

Four reads whatever the number of ids (details with the triage flags, last
messages, tags, SLA clocks), each by primary key or index: no query per row.
Each is defined once, in Core, and runs two ways: in Core for a page of ids,
and on the driver's cursor for one (storage/sql.py's PreparedSelect), as the
live push renders the changed conversation's row for every message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.storage.sql import PreparedSelect
from threadline.storage.tables import (
    conversation_reads,
    conversation_tags,
    conversations,
    customers,
    messages,
    sla_clocks,
    teams,
    triage_decisions,
    users,
)

__all__ = ["PREVIEW_CHARS", "inbox_rows", "preview"]

# The clock a row's badge shows: a breached one before a warning before a running
# one, then the soonest due (core/sla_clock.py).
_URGENCY = {"breached": 0, "warning": 1, "running": 2}

PREVIEW_CHARS = 140
_c = conversations.c
_SPACE = re.compile(r"\s+")


def _one(column: sa.ColumnElement[Any], key: sa.ColumnElement[Any], ref: Any) -> Any:
    """A correlated primary-key lookup: per row, an index probe, where a join on
    small tables tempts PostgreSQL into hashing the whole table for 50 rows."""
    return sa.select(column).where(key == ref).correlate(conversations).scalar_subquery()


def _latest_triage(column: sa.ColumnElement[Any]) -> Any:
    """A flag of the conversation's latest triage decision (None: never triaged), one
    step back along (conversation_id, id) per row."""
    t = triage_decisions.c
    return (
        sa.select(column)
        .where(t.conversation_id == _c.id)
        .order_by(t.id.desc())
        .limit(1)
        .correlate(conversations)
        .scalar_subquery()
    )


def _details() -> tuple[Any, ...]:
    viewer_id: sa.BindParameter[int] = sa.bindparam("viewer_id")
    return (
        _c.id,
        _c.customer_id,
        _c.inbox_id,
        _one(customers.c.name, customers.c.id, _c.customer_id).label("customer_name"),
        _c.subject,
        _c.status,
        _c.priority,
        _c.category,
        _latest_triage(triage_decisions.c.urgent).label("urgent"),
        _latest_triage(triage_decisions.c.sensitive).label("sensitive"),
        _c.escalation_level,
        _c.assignee_id,
        _one(users.c.name, users.c.id, _c.assignee_id).label("assignee_name"),
        _c.team_id,
        _one(teams.c.name, teams.c.id, _c.team_id).label("team_name"),
        _c.snoozed_until,
        _c.waiting_since,
        _c.first_response_due_at,
        _c.next_response_due_at,
        _c.resolution_due_at,
        _c.paused_at,
        _c.last_inbound_channel,
        _c.last_inbound_at,
        _c.last_activity_at,
        _c.resolved_at,
        _c.created_at,
        sa.select(conversation_reads.c.read_at)
        .where(
            conversation_reads.c.user_id == viewer_id,
            conversation_reads.c.conversation_id == _c.id,
        )
        .correlate(conversations)
        .scalar_subquery()
        .label("read_at"),
    )


def preview(text: str) -> str:
    """One line of at most PREVIEW_CHARS characters, ending in "…" when cut."""
    line = _SPACE.sub(" ", text).strip()
    if len(line) <= PREVIEW_CHARS:
        return line
    return line[: PREVIEW_CHARS - 1].rstrip() + "…"


def inbox_rows(conn: Connection, ids: Sequence[int], viewer_id: int) -> list[dict[str, Any]]:
    """The rows of ``ids``, in that order (ids that do not exist are left out).

    ``unread``: the customer wrote after the viewer last read the conversation,
    or the viewer never read it and the customer wrote at all. ``sla_state``,
    ``sla_clock`` and ``sla_due_at``: the most urgent running SLA clock (None
    when none runs), for the row's badge. ``urgent`` and ``sensitive``: the latest
    triage decision's (None before the first), for the row's triage chips.
    """
    if not ids:
        return []
    found: dict[int, dict[str, Any]] = {}
    for r in _DETAILS(conn, ids, viewer_id=viewer_id):
        row = dict(zip(_DETAILS.keys, r, strict=True))
        read_at, inbound = row.pop("read_at"), row["last_inbound_at"]
        row["unread"] = inbound is not None and (read_at is None or inbound > read_at)
        row["tags"] = []
        row["last_message"] = None
        row["sla_state"] = row["sla_clock"] = row["sla_due_at"] = None
        found[row["id"]] = row
    for cid, last in _last_messages(conn, list(found)).items():
        found[cid]["last_message"] = last
    for cid, tag in _TAGS(conn, list(found)):
        found[cid]["tags"].append(tag)
    for cid, kind, state, due_at in _CLOCKS(conn, list(found)):
        row = found[cid]
        key = (_URGENCY.get(state, 3), due_at)
        if row["sla_state"] is None or key < (_URGENCY[row["sla_state"]], row["sla_due_at"]):
            row.update(sla_state=state, sla_clock=kind, sla_due_at=due_at)
    return [found[i] for i in ids if i in found]


def _last_messages(conn: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The latest message that is not an internal note, per conversation.

    The correlated subquery walks (conversation_id, id) backwards and stops at
    the first such message: one or two index steps per conversation, however
    long it is.
    """
    if not ids:
        return {}
    return {
        cid: {
            "text": preview(head),
            "channel": channel,
            "direction": direction,
            "created_at": created_at,
        }
        for cid, head, channel, direction, created_at in _LAST_MESSAGES(conn, ids)
    }


_Match = Callable[[sa.ColumnElement[int]], sa.ColumnElement[bool]]


class _Read:
    """One of the four reads, built once with bind parameters for a page of ids
    and for one: building them cost more than running them (1.3 ms of 1.5 ms).

    A page runs in Core (its expanding IN is rendered per execution anyway). One
    id, the live push's row for every message, runs on the driver's cursor: the
    four through Core were ~15% of the server's GIL time in bench/widget.py, a
    row cost ~0.5 ms, nearly all Core's per-execution work; now ~0.07 ms.
    """

    def __init__(self, build: Callable[[_Match], sa.Select[Any]]) -> None:
        self.many = build(lambda column: column.in_(sa.bindparam("ids", expanding=True)))
        self.one = PreparedSelect(build(lambda column: column == sa.bindparam("id")))
        self.keys = self.one.keys

    def __call__(self, conn: Connection, ids: Sequence[int], **params: Any) -> Iterable[Any]:
        if len(ids) == 1:
            return self.one.rows(conn, {"id": ids[0], **params})
        return conn.execute(self.many, {"ids": list(ids), **params})


_DETAILS = _Read(lambda match: sa.select(*_details()).where(match(_c.id)))
_TAGS = _Read(
    lambda match: (
        sa.select(conversation_tags.c.conversation_id, conversation_tags.c.tag)
        .where(match(conversation_tags.c.conversation_id))
        .order_by(conversation_tags.c.tag)
    )
)
_CLOCKS = _Read(
    lambda match: sa.select(
        sla_clocks.c.conversation_id, sla_clocks.c.kind, sla_clocks.c.state, sla_clocks.c.due_at
    ).where(match(sla_clocks.c.conversation_id))
)


def _last_messages_statement(match: _Match) -> sa.Select[Any]:
    latest = (
        sa.select(messages.c.id)
        .where(messages.c.conversation_id == _c.id, messages.c.direction != "note")
        .order_by(messages.c.id.desc())
        .limit(1)
        .correlate(conversations)
        .scalar_subquery()
    )
    pairs = sa.select(_c.id.label("cid"), latest.label("mid")).where(match(_c.id)).subquery()
    # Enough characters for the preview after whitespace is folded, not the whole
    # text (an email can be megabytes).
    head = sa.func.substr(messages.c.text, 1, PREVIEW_CHARS * 4).label("head")
    return sa.select(
        pairs.c.cid, head, messages.c.channel, messages.c.direction, messages.c.created_at
    ).join(messages, messages.c.id == pairs.c.mid)


_LAST_MESSAGES = _Read(_last_messages_statement)
