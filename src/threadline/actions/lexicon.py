"""The lexicon in force: the package's, until an admin saves an edited one.

Each save is a new row in ``triage_lexicons``; the latest is in force. The row is the
document of the triage settings: it also holds the intake checklist (``intake``, see
actions/intake.py), which a save of the lexicon carries over, and a row saved for the
intake alone before any lexicon holds no ``categories``: the package's lexicon then. Every process
keeps the compiled lexicon of the version it last saw and asks the database only for
the newest id (one primary-key lookup) before each use, so a save holds on the next
message in every process, and compiling (milliseconds) happens once per version.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.actions.errors import ActionError
from threadline.actions.intake import INTAKE_KEY, newest_settings
from threadline.core.lexicon import Lexicon, LexiconError, parse_lexicon
from threadline.storage.db import Tx
from threadline.storage.sql import Statement, run
from threadline.storage.tables import audit_log, triage_lexicons

__all__ = ["LexiconCache", "lexicon_version", "save_lexicon"]

_NEWEST = sa.select(sa.func.max(triage_lexicons.c.id))
_NEWEST_ID = Statement("SELECT max(id) FROM triage_lexicons")
_DATA = sa.select(triage_lexicons.c.data).where(triage_lexicons.c.id == sa.bindparam("id"))


@dataclass
class LexiconCache:
    """The compiled lexicon of the newest stored version (None: none stored)."""

    _version: int | None = None
    _lexicon: Lexicon | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def current(self, conn: Connection, default: Lexicon) -> Lexicon:
        return self._of(conn.execute(_NEWEST).scalar(), conn, default)

    def in_action(self, tx: Tx, default: Lexicon) -> Lexicon:
        """``current`` inside an action, the newest id read on the driver's cursor:
        triage asks for every inbound message (storage/sql.py says why)."""
        return self._of(run(tx, _NEWEST_ID, {}).fetchone()[0], tx.conn, default)

    def _of(self, newest: int | None, conn: Connection, default: Lexicon) -> Lexicon:
        if newest is None:
            return default
        with self._lock:
            if newest == self._version and self._lexicon is not None:
                return self._lexicon
        data = conn.execute(_DATA, {"id": newest}).scalar()
        part = _lexicon_part(data)
        try:
            lexicon = default if part is None else parse_lexicon(part)
        except LexiconError:
            # Stored only after parse_lexicon accepted it; a later, stricter
            # version of the checks must not stop triage: the default holds.
            lexicon = default
        with self._lock:
            self._version, self._lexicon = newest, lexicon
        return lexicon


def _lexicon_part(data: object) -> dict[str, Any] | None:
    """The lexicon in a stored settings document, or None when it holds none."""
    if not isinstance(data, dict) or "categories" not in data:
        return None
    return {k: v for k, v in data.items() if k != INTAKE_KEY}


def lexicon_version(conn: Connection) -> dict[str, Any] | None:
    """The stored lexicon in force (its data, who saved the row and when), or None."""
    row = conn.execute(
        sa.select(triage_lexicons).order_by(triage_lexicons.c.id.desc()).limit(1)
    ).first()
    part = None if row is None else _lexicon_part(row.data)
    return None if row is None or part is None else {**row._mapping, "data": part}


def save_lexicon(tx: Tx, raw: object, *, actor_id: int) -> Lexicon:
    """Check and store an edited lexicon as the one in force; audited."""
    try:
        lexicon = parse_lexicon(raw)
    except LexiconError as exc:
        raise ActionError(str(exc)) from exc
    data = lexicon.as_mapping()
    carried = newest_settings(tx.conn).get(INTAKE_KEY)
    if carried is not None:
        data[INTAKE_KEY] = carried
    tx.conn.execute(
        triage_lexicons.insert().values(data=data, created_by_id=actor_id, created_at=tx.now)
    )
    tx.conn.execute(
        audit_log.insert(),
        {
            "actor": f"user:{actor_id}",
            "action": "triage_lexicon.set",
            "subject": "triage_lexicon",
            "data": {"terms": sum(len(v) for v in lexicon.terms.values())},
            "created_at": tx.now,
        },
    )
    return lexicon
