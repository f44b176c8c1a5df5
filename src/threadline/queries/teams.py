"""Teams with their members and inboxes, and the inboxes a user may see."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.queries.scope import Scope
from threadline.storage.tables import inboxes, team_inboxes, team_members, teams

__all__ = ["list_inboxes", "list_teams", "team_detail"]


def list_teams(conn: Connection, *, team_id: int | None = None) -> list[dict[str, Any]]:
    q = sa.select(teams.c.id, teams.c.name, teams.c.created_at).order_by(teams.c.name)
    if team_id is not None:
        q = q.where(teams.c.id == team_id)
    rows = conn.execute(q).all()
    ids = [r.id for r in rows]
    members: dict[int, list[int]] = {i: [] for i in ids}
    boxes: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        for m in conn.execute(
            sa.select(team_members).where(team_members.c.team_id.in_(ids)).order_by("user_id")
        ):
            members[m.team_id].append(m.user_id)
        for b in conn.execute(
            sa.select(team_inboxes).where(team_inboxes.c.team_id.in_(ids)).order_by("inbox_id")
        ):
            boxes[b.team_id].append(b.inbox_id)
    return [
        {
            "id": r.id,
            "name": r.name,
            "created_at": r.created_at,
            "member_ids": members[r.id],
            "inbox_ids": boxes[r.id],
        }
        for r in rows
    ]


def team_detail(conn: Connection, team_id: int) -> dict[str, Any] | None:
    found = list_teams(conn, team_id=team_id)
    return found[0] if found else None


def list_inboxes(conn: Connection, *, scope: Scope) -> list[dict[str, Any]]:
    """Never the config: it holds the provider secrets."""
    q = sa.select(inboxes.c.id, inboxes.c.channel, inboxes.c.name, inboxes.c.address).order_by(
        inboxes.c.id
    )
    if not scope.all:
        q = q.where(inboxes.c.id.in_(sorted(scope.inbox_ids)))
    return [dict(r._mapping) for r in conn.execute(q)]
