"""The intake checklist in force: the package's, until an admin saves an edited one.

It is stored where the triage lexicon is (``triage_lexicons``: one versioned document of
the triage settings), under the key ``intake``; a row without it means the checklist the
package ships. Each save of either part is a new row that carries the other part over,
so the newest row holds both, and both caches ask only for the newest id (one
primary-key lookup) before each use: a save holds on the next read in every process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.actions.errors import ActionError
from threadline.core.intake import Checklist, ChecklistError, parse_checklist
from threadline.storage.db import Tx
from threadline.storage.tables import audit_log, triage_lexicons

__all__ = ["INTAKE_KEY", "IntakeCache", "intake_version", "newest_settings", "save_intake"]

INTAKE_KEY = "intake"
_NEWEST = sa.select(sa.func.max(triage_lexicons.c.id))
_DATA = sa.select(triage_lexicons.c.data).where(triage_lexicons.c.id == sa.bindparam("id"))


@dataclass
class IntakeCache:
    """The compiled checklist of the newest stored version (None: none stored)."""

    _version: int | None = None
    _checklist: Checklist | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def current(self, conn: Connection, default: Checklist) -> Checklist:
        newest = conn.execute(_NEWEST).scalar()
        if newest is None:
            return default
        with self._lock:
            if newest == self._version and self._checklist is not None:
                return self._checklist
        data = conn.execute(_DATA, {"id": newest}).scalar()
        raw = data.get(INTAKE_KEY) if isinstance(data, dict) else None
        checklist = default
        if raw is not None:
            try:
                checklist = parse_checklist(raw)
            except ChecklistError:
                # Stored only after parse_checklist accepted it; a later, stricter
                # version of the checks must not stop the page: the default holds.
                checklist = default
        with self._lock:
            self._version, self._checklist = newest, checklist
        return checklist


def newest_settings(conn: Connection) -> dict[str, Any]:
    """The newest stored triage settings document ({} when none is stored)."""
    newest = conn.execute(_NEWEST).scalar()
    if newest is None:
        return {}
    data = conn.execute(_DATA, {"id": newest}).scalar()
    return dict(data) if isinstance(data, dict) else {}


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
