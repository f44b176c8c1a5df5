"""The SLA clocks of a conversation as its actions move it (core/sla.py decides).

- A customer's message starts the first-response clock (nobody has answered yet)
  or the next-response clock (an agent has), unless one already runs; a new or
  reopened conversation starts the resolution clock.
- An agent's answer stops the response clocks; resolving stops them all.
- Pending on the customer pauses every clock (``paused_at``); leaving pending
  resumes each with what was left of it (``core.sla.resume``).

Policies are read per action: one indexed read of at most four rows, so an edit
holds from the next message in every process, with no cache to invalidate. A
channel, priority and kind without a stored row holds to core/sla.py's default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import structlog

from threadline.core.hours import Hours, parse_hours
from threadline.core.sla import (
    Kind,
    Target,
    callback_target,
    due_at,
    policy_targets,
    resume,
    retarget,
)
from threadline.storage.db import Tx
from threadline.storage.sql import Statement, run
from threadline.storage.tables import as_utc, conversations

__all__ = [
    "CLOCK_COLUMNS",
    "calendar_of",
    "callback_due",
    "inbox_setup",
    "pause_clocks",
    "resume_clocks",
    "retarget_clocks",
    "start_clocks",
    "stop_clocks",
    "targets_for",
]

log = structlog.get_logger(__name__)

# The due-time column of each clock a conversation carries (the callback's is its task's).
CLOCK_COLUMNS: Mapping[Kind, str] = {
    Kind.FIRST_RESPONSE: "first_response_due_at",
    Kind.NEXT_RESPONSE: "next_response_due_at",
    Kind.RESOLUTION: "resolution_due_at",
}

_TARGETS = Statement(
    "SELECT kind, seconds, business, warn_percent FROM sla_policies "
    "WHERE channel = :channel AND priority = :priority"
)
_CLOCKS = Statement(
    "SELECT priority, status, waiting_since, first_response_at, first_response_due_at, "
    "next_response_due_at, resolution_due_at, paused_at, paused_seconds, "
    "last_inbound_channel, inbox_id FROM conversations WHERE id = :id"
)


def targets_for(tx: Tx, channel: str, priority: str) -> dict[Kind, Target]:
    """The stored policies of a channel and priority, over the defaults (core/sla.py)
    for any kind without a row."""
    stored = run(tx, _TARGETS, {"channel": channel, "priority": priority}).fetchall()
    return policy_targets(channel, priority, stored)


# On the driver's cursor: it runs for every inbound message (storage/sql.py).
_INBOX_CONFIG = Statement("SELECT config FROM inboxes WHERE id = :id")


# Parsed configs and calendars by the stored config's own text: an edit is a new
# key, so nothing is ever stale, and the hot path parses a calendar once per
# edit rather than per message. Bounded: cleared when it fills.
_SETUPS: dict[tuple[int, str | bytes], tuple[Mapping[str, Any], Hours | None]] = {}
_MAX_SETUPS = 512


def inbox_setup(tx: Tx, inbox_id: int | None) -> tuple[Mapping[str, Any], Hours | None]:
    """An inbox's config (read-only) and its parsed calendar, one indexed read per
    action: a customer's message asks twice (its clocks, the off-hours reply).
    No action that writes an inbox's config reads it here afterwards."""
    if inbox_id is None:
        return {}, None
    memo_key = ("inbox_setup", inbox_id)
    found = tx.memo.get(memo_key)
    if found is None:
        found = tx.memo[memo_key] = _read_setup(tx, inbox_id)
    return found


def _read_setup(tx: Tx, inbox_id: int) -> tuple[Mapping[str, Any], Hours | None]:
    row = run(tx, _INBOX_CONFIG, {"id": inbox_id}).fetchone()
    raw = row[0] if row is not None else None
    if raw is None:
        return {}, None
    # SQLite hands JSON back as text, psycopg as a dict (which needs a stable key).
    key = raw if isinstance(raw, str | bytes) else orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
    found = _SETUPS.get((inbox_id, key))
    if found is None:
        config = orjson.loads(raw) if isinstance(raw, str | bytes) else raw
        config = config if isinstance(config, dict) else {}
        found = (config, calendar_of(config, inbox_id))
        if len(_SETUPS) >= _MAX_SETUPS:
            _SETUPS.clear()
        _SETUPS[inbox_id, key] = found
    return found


def calendar_of(config: Mapping[str, Any], inbox_id: int | None = None) -> Hours | None:
    """An inbox's calendar; None (always open) when it has none or it cannot be
    read: a typo in an inbox's hours must never stop a message from being stored."""
    hours = config.get("hours")
    try:
        return parse_hours(hours if isinstance(hours, dict) else None)
    except ValueError:
        log.warning("sla.hours_unreadable", inbox=inbox_id, exc_info=True)
        return None


def _due(calendar: Hours | None, target: Target | None, start: datetime) -> datetime | None:
    if target is None:
        return None
    try:
        return due_at(calendar, target, start)
    except ValueError:  # a calendar never open within a year: hold it to the wall clock
        return due_at(None, target, start)


@dataclass(frozen=True, slots=True)
class _Row:
    priority: str
    status: str
    waiting_since: datetime | None
    first_response_at: datetime | None
    dues: dict[Kind, datetime | None]
    paused_at: datetime | None
    paused_seconds: int
    channel: str | None
    inbox_id: int | None


def _load(tx: Tx, conversation_id: int) -> _Row:
    r = run(tx, _CLOCKS, {"id": conversation_id}).fetchone()
    return _Row(
        priority=r[0],
        status=r[1],
        waiting_since=as_utc(r[2]),
        first_response_at=as_utc(r[3]),
        dues={
            Kind.FIRST_RESPONSE: as_utc(r[4]),
            Kind.NEXT_RESPONSE: as_utc(r[5]),
            Kind.RESOLUTION: as_utc(r[6]),
        },
        paused_at=as_utc(r[7]),
        paused_seconds=int(r[8] or 0),
        channel=r[9],
        inbox_id=r[10],
    )


def start_clocks(
    tx: Tx, inbox_id: int, channel: str, *, conversation_id: int | None
) -> dict[str, Any]:
    """The clock columns to write for a customer message on ``channel``: on a new
    conversation (``conversation_id`` None: the three due times) or one it continues
    (the due times and the pause bookkeeping). Reads the policy, the inbox's
    calendar and the conversation's clocks."""
    calendar = inbox_setup(tx, inbox_id)[1]
    if conversation_id is None:
        targets = targets_for(tx, channel, "normal")
        return {
            "first_response_due_at": _due(calendar, targets.get(Kind.FIRST_RESPONSE), tx.now),
            "next_response_due_at": None,
            "resolution_due_at": _due(calendar, targets.get(Kind.RESOLUTION), tx.now),
        }
    row = _load(tx, conversation_id)
    targets = targets_for(tx, channel, row.priority)
    values: dict[str, Any] = {CLOCK_COLUMNS[kind]: due for kind, due in row.dues.items()}
    values.update(paused_at=row.paused_at, paused_seconds=row.paused_seconds)
    if row.paused_at is not None:
        values.update(_resumed(tx, row, calendar, targets))
    if row.status == "resolved":  # reopened: held to a resolution again from now
        values["resolution_due_at"] = _due(calendar, targets.get(Kind.RESOLUTION), tx.now)
    if row.waiting_since is None:  # this message starts a wait
        kind = Kind.FIRST_RESPONSE if row.first_response_at is None else Kind.NEXT_RESPONSE
        values[CLOCK_COLUMNS[kind]] = _due(calendar, targets.get(kind), tx.now)
    return values


def _paused_seconds(row: _Row, now: datetime) -> int:
    """All the time the conversation has been pending, this pause included."""
    assert row.paused_at is not None
    return row.paused_seconds + max(0, int((now - row.paused_at).total_seconds()))


def _resumed(
    tx: Tx, row: _Row, calendar: Hours | None, targets: Mapping[Kind, Target]
) -> dict[str, Any]:
    assert row.paused_at is not None
    values: dict[str, Any] = {
        "paused_at": None,
        "paused_seconds": row.paused_seconds
        + max(0, int((tx.now - row.paused_at).total_seconds())),
    }
    for kind, column in CLOCK_COLUMNS.items():
        due = row.dues[kind]
        if due is None:
            continue
        # A clock without a policy any more resumes on the wall clock.
        target = targets.get(kind) or Target(timedelta(0), business=False)
        try:
            values[column] = resume(calendar, target, due, row.paused_at, tx.now)
        except ValueError:
            values[column] = resume(None, target, due, row.paused_at, tx.now)
    return values


def _write(tx: Tx, conversation_id: int, values: Mapping[str, Any]) -> None:
    if values:
        tx.conn.execute(
            conversations.update().where(conversations.c.id == conversation_id).values(**values)
        )


def resume_clocks(tx: Tx, conversation_id: int) -> None:
    """The conversation left pending (an agent reopened or snoozed it)."""
    row = _load(tx, conversation_id)
    if row.paused_at is None:
        return
    calendar = inbox_setup(tx, row.inbox_id)[1]
    targets = targets_for(tx, row.channel or "", row.priority)
    _write(tx, conversation_id, _resumed(tx, row, calendar, targets))


def retarget_clocks(tx: Tx, conversation_id: int, priority: str) -> dict[str, Any]:
    """The running clocks' due times under the policy of a new priority (what has
    elapsed still counts). Returns the columns to write with the priority."""
    row = _load(tx, conversation_id)
    channel = row.channel or ""
    old, new = targets_for(tx, channel, row.priority), targets_for(tx, channel, priority)
    calendar = inbox_setup(tx, row.inbox_id)[1]
    values: dict[str, Any] = {}
    for kind, column in CLOCK_COLUMNS.items():
        due = row.dues[kind]
        if due is None or kind not in old or kind not in new:
            continue  # a clock with no policy on either side keeps its time
        at = row.paused_at or tx.now
        try:
            values[column] = retarget(calendar, old[kind], new[kind], due, at)
        except ValueError:
            values[column] = retarget(None, old[kind], new[kind], due, at)
    return values


def pause_clocks(tx: Tx, conversation_id: int) -> None:
    """The conversation is pending on the customer: its clocks stop now."""
    tx.conn.execute(
        conversations.update()
        .where(conversations.c.id == conversation_id, conversations.c.paused_at.is_(None))
        .values(paused_at=tx.now)
    )


def stop_clocks(tx: Tx, conversation_id: int) -> dict[str, Any]:
    """Resolved: no clock runs, and a pause in progress ends (its time is added up).
    Returns the columns to write, for the caller's own update of the row."""
    row = _load(tx, conversation_id)
    values: dict[str, Any] = {column: None for column in CLOCK_COLUMNS.values()}
    if row.paused_at is not None:
        values.update(paused_at=None, paused_seconds=_paused_seconds(row, tx.now))
    return values


def callback_due(tx: Tx, inbox_id: int, priority: str) -> datetime:
    """When a missed call or a voicemail is owed a callback: the voice policy's
    callback target for the priority, in the inbox's calendar. The inbox's own
    ``callback_target_minutes``, where set, replaces the policy's amount; with
    neither, two hours."""
    config, calendar = inbox_setup(tx, inbox_id)
    policy = targets_for(tx, "voice", priority).get(Kind.CALLBACK) or Target(timedelta(hours=2))
    due = _due(calendar, callback_target(policy, config), tx.now)
    assert due is not None
    return due
