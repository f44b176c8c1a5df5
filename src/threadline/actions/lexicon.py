"""The lexicon in force: the package's, until an admin saves an edited one.

It is the triage settings document (actions/triage_settings.py) without its intake
checklist; a document saved for the intake alone before any lexicon holds no
``categories``: the package's lexicon then. Compiling takes milliseconds, once per
version in each process.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.actions.errors import ActionError
from threadline.actions.intake import INTAKE_KEY
from threadline.actions.triage_settings import NewestPart, newest_settings
from threadline.core.lexicon import Lexicon, LexiconError, parse_lexicon
from threadline.storage.db import Tx
from threadline.storage.sql import Statement, run
from threadline.storage.tables import audit_log, triage_lexicons

__all__ = ["LexiconCache", "lexicon_version", "save_lexicon"]

_NEWEST_ID = Statement("SELECT max(id) FROM triage_lexicons")


def _compiled(data: object) -> Lexicon | None:
    part = _lexicon_part(data)
    return None if part is None else parse_lexicon(part)


class LexiconCache(NewestPart[Lexicon]):
    """The compiled lexicon of the newest stored version (the default: none stored)."""

    def __init__(self) -> None:
        super().__init__(_compiled)

    def in_action(self, tx: Tx, default: Lexicon) -> Lexicon:
        """``current`` inside an action, the newest id read on the driver's cursor:
        triage asks for every inbound message (storage/sql.py says why)."""
        return self.of(run(tx, _NEWEST_ID, {}).fetchone()[0], tx.conn, default)


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
