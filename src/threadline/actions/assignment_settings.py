"""Admins setting up assignment: each agent's capacity, skills and shifts, and
each inbox's strategy, level-2 team and email batch times.

Everything is checked here (``check_*``), so the API, the Settings page and the
CLI reject the same input with the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from threadline.actions.audit import audit
from threadline.actions.errors import ActionError, NotFound
from threadline.core.assignment import DEFAULT_CAPACITY, MAX_CAPACITY, Strategy
from threadline.core.shifts import ScheduleError, check_batch_times, check_schedule
from threadline.storage.db import Tx
from threadline.storage.tables import (
    agent_assignment,
    inbox_assignment,
    inboxes,
    team_inboxes,
    teams,
    users,
)

__all__ = [
    "MAX_SKILLS",
    "check_capacity",
    "check_skills",
    "set_agent_assignment",
    "set_inbox_assignment",
]

MAX_SKILLS = 50
MAX_SKILL = 64


def check_capacity(raw: Any) -> dict[str, int]:
    """{"chat": 3, "email": 20}: open conversations per channel, 0 to MAX_CAPACITY."""
    if not isinstance(raw, Mapping):
        raise ActionError("capacity is an object of channel: number")
    out = {}
    for channel, value in raw.items():
        if channel not in DEFAULT_CAPACITY:
            raise ActionError(
                f"unknown channel {str(channel)[:32]!r} in capacity "
                f"(use {', '.join(DEFAULT_CAPACITY)})"
            )
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_CAPACITY:
            raise ActionError(f"capacity for {channel} is a whole number from 0 to {MAX_CAPACITY}")
        out[str(channel)] = value
    return out


def check_skills(raw: Any) -> list[str]:
    """Skills as words ("billing", "german"): trimmed, lower-case, distinct, sorted."""
    if not isinstance(raw, list | tuple) or len(raw) > MAX_SKILLS:
        raise ActionError(f"skills are a list of at most {MAX_SKILLS}")
    out = set()
    for skill in raw:
        word = str(skill).strip().lower()
        if not word or len(word) > MAX_SKILL or any(c in word for c in ",\n\r\t"):
            raise ActionError(f"a skill is 1 to {MAX_SKILL} characters, without commas")
        out.add(word)
    return sorted(out)


def _upsert(tx: Tx, table: sa.Table, key: str, key_value: int, values: dict[str, Any]) -> None:
    found = tx.conn.execute(sa.select(table.c[key]).where(table.c[key] == key_value)).first()
    if found is None:
        tx.conn.execute(table.insert().values({key: key_value, **values}))
    else:
        tx.conn.execute(table.update().where(table.c[key] == key_value).values(values))


def set_agent_assignment(
    tx: Tx,
    user_id: int,
    *,
    capacity: Any,
    skills: Any,
    shifts: Any,
    actor: str,
) -> None:
    """Replace what the agent takes: capacity per channel, skills, and shifts (None:
    always on shift)."""
    user = tx.conn.execute(sa.select(users.c.role).where(users.c.id == user_id)).first()
    if user is None:
        raise NotFound(f"user {user_id} not found")
    capacity = check_capacity(capacity)
    skills = check_skills(skills)
    try:
        check_schedule(shifts)
    except ScheduleError as exc:
        raise ActionError(f"shifts: {exc}") from None
    stored = shifts or None
    _upsert(
        tx,
        agent_assignment,
        "user_id",
        user_id,
        {"capacity": capacity, "skills": skills, "shifts": stored, "updated_at": tx.now},
    )
    audit(
        tx,
        actor,
        "agent.assignment",
        f"user:{user_id}",
        {"capacity": capacity, "skills": skills, "shifts": stored},
    )


def _check_level2_team(tx: Tx, team_id: int, inbox_id: int, inbox_name: str) -> None:
    """The level-2 team must exist and work the inbox: scope is by the teams'
    inboxes, so a team without it could neither see nor take what is escalated."""
    name = tx.conn.execute(sa.select(teams.c.name).where(teams.c.id == team_id)).scalar()
    if name is None:
        raise ActionError(f"team {team_id} does not exist")
    works = sa.select(team_inboxes.c.team_id).where(
        team_inboxes.c.team_id == team_id, team_inboxes.c.inbox_id == inbox_id
    )
    if tx.conn.execute(works).first() is None:
        raise ActionError(
            f"team {name!r} does not work the inbox {inbox_name!r}, so its agents could not "
            "see what is escalated to them: add the inbox to the team first (Settings → Teams)"
        )


def set_inbox_assignment(
    tx: Tx,
    inbox_id: int,
    *,
    strategy: str,
    sticky: bool,
    skills: Any,
    level2_team_id: int | None,
    batch_times: Any,
    batch_timezone: str,
    actor: str,
) -> None:
    """Replace how the inbox hands out conversations. Batch times apply to email."""
    inbox = tx.conn.execute(
        sa.select(inboxes.c.channel, inboxes.c.name).where(inboxes.c.id == inbox_id)
    ).first()
    if inbox is None:
        raise NotFound(f"inbox {inbox_id} not found")
    channel = inbox.channel
    try:
        chosen = Strategy(strategy)
    except ValueError:
        raise ActionError(f"strategy is one of {', '.join(s.value for s in Strategy)}") from None
    skills = check_skills(skills)
    try:
        check_batch_times(batch_times, batch_timezone)
    except ScheduleError as exc:
        raise ActionError(f"batch times: {exc}") from None
    if batch_times and channel != "email":
        raise ActionError("batch times are for email inboxes: real-time channels wait for nobody")
    if level2_team_id is not None:
        _check_level2_team(tx, level2_team_id, inbox_id, inbox.name)
    values = {
        "strategy": chosen.value,
        "sticky": bool(sticky),
        "skills": skills,
        "level2_team_id": level2_team_id,
        "batch_times": sorted(set(batch_times or [])),
        "batch_timezone": batch_timezone or "UTC",
        "updated_at": tx.now,
    }
    _upsert(tx, inbox_assignment, "inbox_id", inbox_id, values)
    audit(
        tx,
        actor,
        "inbox.assignment",
        f"inbox:{inbox_id}",
        {k: v for k, v in values.items() if k != "updated_at"},
    )
