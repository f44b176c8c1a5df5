"""Teams: who works which inboxes.

A user whose ``all_inboxes`` flag is off sees only the inboxes of their teams
(queries/scope.py); admins always see all. Membership alone restricts nobody,
so adding a first team cannot hide the rest of the desk from its agents.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from threadline.actions.audit import audit
from threadline.actions.errors import ActionError, Conflict, NotFound
from threadline.storage.db import Tx
from threadline.storage.tables import (
    inbox_assignment,
    inboxes,
    team_inboxes,
    team_members,
    teams,
    users,
)

__all__ = [
    "MAX_TEAM_ITEMS",
    "add_team_inbox",
    "add_team_member",
    "create_team",
    "set_inbox_scope",
    "set_team_inboxes",
    "set_team_members",
    "team_id_by_name",
]

MAX_TEAM_ITEMS = 1000  # members or inboxes in one team


def _team(tx: Tx, team_id: int) -> int:
    if tx.conn.execute(sa.select(teams.c.id).where(teams.c.id == team_id)).first() is None:
        raise NotFound(f"team {team_id} not found")
    return team_id


def _existing(tx: Tx, table: sa.Table, ids: Iterable[int], what: str) -> list[int]:
    wanted = sorted(set(ids))
    if len(wanted) > MAX_TEAM_ITEMS:
        raise ActionError(f"a team holds at most {MAX_TEAM_ITEMS} {what}s")
    found = set(tx.conn.execute(sa.select(table.c.id).where(table.c.id.in_(wanted))).scalars())
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ActionError(f"no {what} with the id {', '.join(map(str, missing))}")
    return wanted


def team_id_by_name(tx: Tx, name: str) -> int:
    team_id = tx.conn.execute(sa.select(teams.c.id).where(teams.c.name == name.strip())).scalar()
    if team_id is None:
        raise NotFound(f"no team named {name}")
    return int(team_id)


def create_team(tx: Tx, *, name: str, actor: str) -> int:
    name = name.strip()
    if not name or len(name) > 200:
        raise ActionError("a team needs a name of 1 to 200 characters")
    if tx.conn.execute(sa.select(teams.c.id).where(teams.c.name == name)).first():
        raise Conflict(f"a team named {name} exists")
    team_id: int = tx.conn.execute(
        teams.insert().returning(teams.c.id), {"name": name, "created_at": tx.now}
    ).scalar_one()
    audit(tx, actor, "team.add", f"team:{team_id}", {"name": name})
    return team_id


def set_team_members(tx: Tx, team_id: int, user_ids: Iterable[int], *, actor: str) -> list[int]:
    """Replace the team's members; returns them, sorted."""
    _team(tx, team_id)
    wanted = _existing(tx, users, user_ids, "user")
    tx.conn.execute(team_members.delete().where(team_members.c.team_id == team_id))
    if wanted:
        tx.conn.execute(team_members.insert(), [{"team_id": team_id, "user_id": u} for u in wanted])
    audit(tx, actor, "team.members", f"team:{team_id}", {"user_ids": wanted})
    return wanted


def set_team_inboxes(tx: Tx, team_id: int, inbox_ids: Iterable[int], *, actor: str) -> list[int]:
    """Replace the team's inboxes; returns them, sorted."""
    _team(tx, team_id)
    wanted = _existing(tx, inboxes, inbox_ids, "inbox")
    escalated_to = (
        tx.conn.execute(
            sa.select(inboxes.c.name)
            .join(inbox_assignment, inbox_assignment.c.inbox_id == inboxes.c.id)
            .where(inbox_assignment.c.level2_team_id == team_id, inboxes.c.id.not_in(wanted))
            .order_by(inboxes.c.name)
        )
        .scalars()
        .all()
    )
    if escalated_to:
        # Its agents would lose sight of the conversations escalated to them.
        raise ActionError(
            f"the team is the level-2 team of {', '.join(map(repr, escalated_to))}: "
            "choose another level-2 team there first (Settings → Assignment)"
        )
    tx.conn.execute(team_inboxes.delete().where(team_inboxes.c.team_id == team_id))
    if wanted:
        tx.conn.execute(
            team_inboxes.insert(), [{"team_id": team_id, "inbox_id": i} for i in wanted]
        )
    audit(tx, actor, "team.inboxes", f"team:{team_id}", {"inbox_ids": wanted})
    return wanted


def add_team_member(tx: Tx, team_id: int, user_id: int, *, actor: str) -> None:
    current = tx.conn.execute(
        sa.select(team_members.c.user_id).where(team_members.c.team_id == team_id)
    ).scalars()
    set_team_members(tx, team_id, [*current, user_id], actor=actor)


def add_team_inbox(tx: Tx, team_id: int, inbox_id: int, *, actor: str) -> None:
    current = tx.conn.execute(
        sa.select(team_inboxes.c.inbox_id).where(team_inboxes.c.team_id == team_id)
    ).scalars()
    set_team_inboxes(tx, team_id, [*current, inbox_id], actor=actor)


def set_inbox_scope(tx: Tx, user_id: int, *, all_inboxes: bool, actor: str) -> None:
    """Let the user see every inbox, or only their teams' (admins see all regardless)."""
    done = tx.conn.execute(
        users.update().where(users.c.id == user_id).values(all_inboxes=all_inboxes)
    ).rowcount
    if not done:
        raise NotFound(f"user {user_id} not found")
    audit(tx, actor, "user.inbox_scope", f"user:{user_id}", {"all_inboxes": all_inboxes})
