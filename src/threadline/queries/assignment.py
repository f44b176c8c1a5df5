"""The read side of assignment: who works an inbox, their load, and the settings.

``candidates`` gathers everything core/assignment.pick_agent weighs for one
conversation; the settings readers feed the admin API and the Settings page.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.core.assignment import Candidate, Strategy
from threadline.core.shifts import (
    BatchTimes,
    Schedule,
    ScheduleError,
    check_batch_times,
    check_schedule,
    on_shift,
)
from threadline.storage.db import Tx
from threadline.storage.sql import Statement, json_value, run
from threadline.storage.tables import (
    agent_assignment,
    conversations,
    inbox_assignment,
    inboxes,
    team_inboxes,
    team_members,
    users,
)

__all__ = [
    "MAX_CANDIDATES",
    "InboxAssignment",
    "agent_settings",
    "assignable_users",
    "candidates",
    "inbox_settings",
    "inbox_settings_view",
    "on_shift_now",
    "previous_agent",
]

MAX_CANDIDATES = 500  # agents weighed for one conversation


@dataclass(frozen=True, slots=True)
class InboxAssignment:
    inbox_id: int
    channel: str  # the inbox's
    strategy: Strategy
    sticky: bool
    skills: frozenset[str]
    level2_team_id: int | None
    batches: BatchTimes | None


def assignable_users(conn: Connection, inbox_id: int | None) -> Sequence[Any]:
    """Active agents and admins who can see the inbox (queries/scope.py's rule),
    by name: the people a conversation there can be assigned to."""
    sees_inbox = sa.exists(
        sa.select(sa.literal(1))
        .select_from(
            team_members.join(team_inboxes, team_inboxes.c.team_id == team_members.c.team_id)
        )
        .where(team_members.c.user_id == users.c.id, team_inboxes.c.inbox_id == inbox_id)
    )
    return conn.execute(
        sa.select(users.c.id, users.c.name)
        .where(
            users.c.deactivated_at.is_(None),
            users.c.role.in_(("admin", "agent")),
            sa.or_(users.c.role == "admin", users.c.all_inboxes.is_(True), sees_inbox),
        )
        .order_by(users.c.name, users.c.id)
        .limit(MAX_CANDIDATES)
    ).all()


def _schedule(raw: Any) -> Schedule | None:
    # Checked when stored; one that no longer reads (a time zone gone from the
    # tz database) counts as no schedule, so nobody silently stops getting work.
    try:
        return check_schedule(raw)
    except ScheduleError:
        return None


def on_shift_now(
    conn: Connection, user_ids: Collection[int], channel: str, now: datetime
) -> set[int]:
    """The users among ``user_ids`` whose shifts cover ``channel`` now."""
    ids = sorted(user_ids)[:MAX_CANDIDATES]
    schedules = dict(
        conn.execute(
            sa.select(agent_assignment.c.user_id, agent_assignment.c.shifts).where(
                agent_assignment.c.user_id.in_(ids)
            )
        ).all()
    )
    return {u for u in ids if on_shift(_schedule(schedules.get(u)), channel, now)}


def candidates(
    conn: Connection, inbox_id: int, channel: str, now: datetime, online: Collection[int]
) -> list[Candidate]:
    people = assignable_users(conn, inbox_id)
    ids = [p.id for p in people]
    if not ids:
        return []
    settings = {
        r.user_id: r
        for r in conn.execute(
            sa.select(agent_assignment).where(agent_assignment.c.user_id.in_(ids))
        )
    }
    teams: dict[int, set[int]] = {i: set() for i in ids}
    for m in conn.execute(sa.select(team_members).where(team_members.c.user_id.in_(ids))):
        teams[m.user_id].add(m.team_id)
    open_channel = sa.func.coalesce(conversations.c.last_inbound_channel, inboxes.c.channel)
    loads: dict[int, dict[str, int]] = {i: {} for i in ids}
    for row in conn.execute(
        sa.select(conversations.c.assignee_id, open_channel, sa.func.count())
        .select_from(conversations.outerjoin(inboxes, inboxes.c.id == conversations.c.inbox_id))
        .where(conversations.c.status == "open", conversations.c.assignee_id.in_(ids))
        .group_by(conversations.c.assignee_id, open_channel)
    ):
        loads[row[0]][str(row[1])] = int(row[2])
    out = []
    for p in people:
        s = settings.get(p.id)
        out.append(
            Candidate(
                id=p.id,
                name=p.name,
                online=p.id in online,
                on_shift=on_shift(_schedule(s.shifts if s else None), channel, now),
                skills=frozenset(s.skills if s else ()),
                teams=frozenset(teams[p.id]),
                open=loads[p.id],
                capacity=dict(s.capacity) if s else {},
                last_assigned_at=s.last_assigned_at if s else None,
            )
        )
    return out


def previous_agent(conn: Connection, customer_id: int, conversation_id: int) -> int | None:
    """Who last worked this customer: the assignee of their latest other conversation."""
    return conn.execute(
        sa.select(conversations.c.assignee_id)
        .where(
            conversations.c.customer_id == customer_id,
            conversations.c.id != conversation_id,
            conversations.c.assignee_id.is_not(None),
        )
        .order_by(conversations.c.last_activity_at.desc(), conversations.c.id.desc())
        .limit(1)
    ).scalar()


# On the driver's cursor: every new conversation asks, inside the ingest writer
# (storage/sql.py says why).
_INBOX = Statement(
    "SELECT a.inbox_id, i.channel, a.strategy, a.sticky, a.skills, a.level2_team_id, "
    "a.batch_times, a.batch_timezone FROM inbox_assignment a "
    "JOIN inboxes i ON i.id = a.inbox_id WHERE a.inbox_id = :inbox_id"
)


def inbox_settings(tx: Tx, inbox_id: int) -> InboxAssignment | None:
    """None: the inbox is assigned by hand."""
    row = run(tx, _INBOX, {"inbox_id": inbox_id}).fetchone()
    if row is None:
        return None
    _, channel, strategy, sticky, skills, level2_team_id, batch_times, batch_timezone = row
    try:
        batches = check_batch_times(json_value(tx.conn, batch_times), batch_timezone)
    except ScheduleError:
        batches = None  # checked when stored; unreadable now means hand out at once
    return InboxAssignment(
        inbox_id,
        channel,
        Strategy(strategy),
        bool(sticky),
        frozenset(json_value(tx.conn, skills) or ()),
        level2_team_id,
        batches,
    )


def inbox_settings_view(conn: Connection, inbox_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each inbox's settings as stored (the defaults for one never set), for the API and page."""
    found = {
        r.inbox_id: r
        for r in conn.execute(
            sa.select(inbox_assignment).where(inbox_assignment.c.inbox_id.in_(list(inbox_ids)))
        )
    }
    out = {}
    for i in inbox_ids:
        r = found.get(i)
        out[i] = {
            "inbox_id": i,
            "strategy": r.strategy if r else Strategy.MANUAL.value,
            "sticky": bool(r.sticky) if r else True,
            "skills": list(r.skills) if r else [],
            "level2_team_id": r.level2_team_id if r else None,
            "batch_times": list(r.batch_times) if r else [],
            "batch_timezone": r.batch_timezone if r else "UTC",
        }
    return out


def agent_settings(conn: Connection, user_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each agent's capacity, skills and shifts as stored (empty when never set)."""
    found = {
        r.user_id: r
        for r in conn.execute(
            sa.select(agent_assignment).where(agent_assignment.c.user_id.in_(list(user_ids)))
        )
    }
    return {
        u: {
            "user_id": u,
            "capacity": dict(found[u].capacity) if u in found else {},
            "skills": list(found[u].skills) if u in found else [],
            "shifts": found[u].shifts if u in found else None,
        }
        for u in user_ids
    }
