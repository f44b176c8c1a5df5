"""Agents' and teams' names, for what the workspace writes in words ("Ana assigned
it to Billing"). Deactivated agents keep their names: they still wrote what they wrote."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.storage.tables import teams, users

__all__ = ["MAX_NAMES", "names"]

MAX_NAMES = 2_000  # a help desk's staff and teams, with room to spare

_PEOPLE = sa.select(users.c.id, users.c.name).order_by(users.c.name).limit(MAX_NAMES)
_TEAMS = sa.select(teams.c.id, teams.c.name).order_by(teams.c.name).limit(MAX_NAMES)


def names(conn: Connection) -> tuple[dict[int, str], dict[int, str]]:
    """(agents by id, teams by id), each in alphabetical order."""
    return dict(conn.execute(_PEOPLE).all()), dict(conn.execute(_TEAMS).all())
