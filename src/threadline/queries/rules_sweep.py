"""The time_passed sweep's candidates: conversations some time_passed rule may hold for
and has not fired on since they last changed.

One query per page of at most ``limit`` conversations, in id order after a cursor, so
a sweep walks every candidate in bounded pages. Each rule is one OR'ed branch: its
statuses and hour bounds (core/rules_sweep.py) on indexed columns (status with
last_inbound_at, last_agent_at, status_changed_at), and no firing of that rule since
the conversation's last change (actions/rule_firings.py keeps the same definition).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.core.rules_sweep import SWEPT_STATUSES, Prefilter
from threadline.storage.tables import conversations, rule_firings

__all__ = ["time_passed_candidates"]

c = conversations.c


def _since(fact: str, op: str, cutoff: datetime) -> Any:
    """``fact`` happened at or before ``cutoff`` (at_least) or at or after it (at_most);
    a fact that never happened meets neither, as in core/rules_eval.py."""
    if fact == "hours_in_status":
        # None: the status has not changed since the conversation was created.
        if op == "at_least":
            return sa.or_(
                c.status_changed_at <= cutoff,
                sa.and_(c.status_changed_at.is_(None), c.created_at <= cutoff),
            )
        return sa.or_(
            c.status_changed_at >= cutoff,
            sa.and_(c.status_changed_at.is_(None), c.created_at >= cutoff),
        )
    column = c.last_inbound_at if fact == "hours_since_customer" else c.last_agent_at
    return column <= cutoff if op == "at_least" else column >= cutoff


def _not_fired(rule_id: int) -> Any:
    f = rule_firings.c
    since = sa.and_(
        f.rule_id == rule_id,
        f.conversation_id == c.id,
        f.fired_at >= sa.func.coalesce(c.status_changed_at, c.created_at),
        sa.or_(c.last_inbound_at.is_(None), f.fired_at >= c.last_inbound_at),
        sa.or_(c.last_agent_at.is_(None), f.fired_at >= c.last_agent_at),
    )
    return ~sa.exists().where(since)


def _branch(p: Prefilter, now: datetime) -> Any:
    parts = [c.status.in_(sorted(p.statuses))]
    parts += [_since(fact, op, now - timedelta(hours=h)) for fact, op, h in p.bounds]
    parts.append(_not_fired(p.rule_id))
    return sa.and_(*parts)


def time_passed_candidates(
    conn: Connection, filters: Sequence[Prefilter], now: datetime, *, after: int, limit: int
) -> list[int]:
    """Ids after ``after``, ascending, at most ``limit``: the next page of the sweep."""
    if not filters:
        return []
    query = (
        sa.select(c.id)
        .where(
            c.status.in_(sorted(SWEPT_STATUSES)),
            c.id > after,
            sa.or_(*(_branch(p, now) for p in filters)),
        )
        .order_by(c.id)
        .limit(limit)
    )
    return [int(i) for i in conn.execute(query).scalars()]
