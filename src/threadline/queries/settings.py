"""What the admin settings pages list: people, tokens and inboxes.

Never a secret: tokens are listed without their hash, and an inbox's config
only as the names of the settings that hold a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.storage.tables import api_tokens, inboxes, team_members, teams, users

__all__ = [
    "MAX_LISTED",
    "inbox_row",
    "inbox_settings",
    "list_people",
    "list_tokens",
    "settings_counts",
]

MAX_LISTED = 2_000  # rows one settings table shows: a help desk's staff, tokens, inboxes


def list_people(conn: Connection) -> list[dict[str, Any]]:
    """Every user, active ones first, with the names of their teams."""
    rows = conn.execute(
        sa.select(
            users.c.id,
            users.c.email,
            users.c.name,
            users.c.role,
            users.c.all_inboxes,
            users.c.deactivated_at,
            users.c.created_at,
        )
        .order_by(users.c.deactivated_at.is_not(None), users.c.name, users.c.id)
        .limit(MAX_LISTED)
    ).all()
    ids = [r.id for r in rows]
    team_names: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for m in conn.execute(
            sa.select(team_members.c.user_id, teams.c.name)
            .join(teams, teams.c.id == team_members.c.team_id)
            .where(team_members.c.user_id.in_(ids))
            .order_by(teams.c.name)
        ):
            team_names[m.user_id].append(m.name)
    return [{**r._mapping, "teams": team_names[r.id]} for r in rows]


def list_tokens(conn: Connection) -> list[dict[str, Any]]:
    """API tokens, live ones first, newest first; their owners by name."""
    return [
        dict(r._mapping)
        for r in conn.execute(
            sa.select(
                api_tokens.c.id,
                api_tokens.c.name,
                api_tokens.c.created_at,
                api_tokens.c.revoked_at,
                users.c.name.label("owner_name"),
                users.c.email.label("owner_email"),
                users.c.deactivated_at.label("owner_deactivated_at"),
            )
            .join(users, users.c.id == api_tokens.c.user_id)
            .order_by(api_tokens.c.revoked_at.is_not(None), api_tokens.c.id.desc())
            .limit(MAX_LISTED)
        )
    ]


def _set_keys(config: Mapping[str, Any], prefix: str = "") -> set[str]:
    """The names of the settings that hold a value (``smtp.host`` for a section)."""
    found: set[str] = set()
    for key, value in config.items():
        if isinstance(value, Mapping):
            found |= _set_keys(value, f"{prefix}{key}.")
        elif value not in (None, "", False):
            found.add(f"{prefix}{key}")
    return found


def inbox_settings(conn: Connection) -> list[dict[str, Any]]:
    """Each inbox with ``configured``: which settings are set, never their values."""
    return [
        {
            "id": r.id,
            "channel": r.channel,
            "name": r.name,
            "address": r.address,
            "created_at": r.created_at,
            "configured": _set_keys(r.config or {}),
        }
        for r in conn.execute(
            sa.select(
                inboxes.c.id,
                inboxes.c.channel,
                inboxes.c.name,
                inboxes.c.address,
                inboxes.c.config,
                inboxes.c.created_at,
            )
            .order_by(inboxes.c.id)
            .limit(MAX_LISTED)
        )
    ]


def inbox_row(conn: Connection, inbox_id: int) -> Any:
    """One inbox's row, its config still sealed (actions/inboxes.load_inbox opens it)."""
    return conn.execute(sa.select(inboxes).where(inboxes.c.id == inbox_id)).first()


def settings_counts(conn: Connection) -> dict[str, int]:
    def count(q: Any) -> int:
        return int(conn.execute(q).scalar() or 0)

    return {
        "people": count(
            sa.select(sa.func.count()).select_from(users).where(users.c.deactivated_at.is_(None))
        ),
        "teams": count(sa.select(sa.func.count()).select_from(teams)),
        "inboxes": count(sa.select(sa.func.count()).select_from(inboxes)),
        "tokens": count(
            sa.select(sa.func.count())
            .select_from(api_tokens)
            .where(api_tokens.c.revoked_at.is_(None))
        ),
    }
