"""The intake checklist in force: the package's, until an admin saves an edited one.

It is part of the triage settings document (actions/triage_settings.py), under the
key ``intake``; a document without it means the checklist the package ships.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.actions.errors import ActionError
from threadline.actions.triage_settings import NewestPart, newest_settings
from threadline.core.intake import Checklist, ChecklistError, parse_checklist
from threadline.storage.db import Tx
from threadline.storage.tables import audit_log, triage_lexicons

__all__ = ["INTAKE_KEY", "IntakeCache", "intake_version", "save_intake"]

INTAKE_KEY = "intake"


def _checklist_part(data: object) -> Checklist | None:
    raw = data.get(INTAKE_KEY) if isinstance(data, dict) else None
    return None if raw is None else parse_checklist(raw)


class IntakeCache(NewestPart[Checklist]):
    """The compiled checklist of the newest stored version (the default: none stored)."""

    def __init__(self) -> None:
        super().__init__(_checklist_part)


def intake_version(conn: Connection) -> dict[str, Any] | None:
    """The stored checklist in force (``data``, who saved the row and when), or None
    while the package's is in force."""
    row = conn.execute(
        sa.select(triage_lexicons).order_by(triage_lexicons.c.id.desc()).limit(1)
    ).first()
    if row is None or not isinstance(row.data, dict) or INTAKE_KEY not in row.data:
        return None
    return {**row._mapping, "data": row.data[INTAKE_KEY]}


def save_intake(tx: Tx, raw: object, *, actor_id: int) -> Checklist | None:
    """Check and store an edited checklist as the one in force (None: go back to the
    package's); the lexicon in force is carried over unchanged. Audited."""
    checklist = None
    if raw is not None:
        try:
            checklist = parse_checklist(raw)
        except ChecklistError as exc:
            raise ActionError(str(exc)) from exc
    data = {k: v for k, v in newest_settings(tx.conn).items() if k != INTAKE_KEY}
    if checklist is not None:
        data[INTAKE_KEY] = checklist.as_mapping()
    tx.conn.execute(
        triage_lexicons.insert().values(data=data, created_by_id=actor_id, created_at=tx.now)
    )
    tx.conn.execute(
        audit_log.insert(),
        {
            "actor": f"user:{actor_id}",
            "action": "intake_checklist.set",
            "subject": "intake_checklist",
            "data": {
                "facts": None
                if checklist is None
                else sum(len(f) for f in checklist.facts.values()),
            },
            "created_at": tx.now,
        },
    )
    return checklist
