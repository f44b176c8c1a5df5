"""A conversation's triage decision as the API and the workspace show it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.storage.tables import triage_decisions

__all__ = ["latest_triage"]

_t = triage_decisions
# Built once: the conversation page and GET /conversations/{id} read it every time.
_LATEST = (
    sa.select(
        _t.c.category,
        _t.c.urgent,
        _t.c.sensitive,
        _t.c.recommended_channel,
        _t.c.reasons,
        _t.c.message_id,
        _t.c.category_by_agent,
        _t.c.created_at.label("decided_at"),
        _t.c.corrected_by_id,
        sa.case((_t.c.corrected_by_id.is_not(None), _t.c.created_at)).label("corrected_at"),
    )
    .where(_t.c.conversation_id == sa.bindparam("cid"))
    .order_by(_t.c.id.desc())
    .limit(1)
)


def latest_triage(conn: Connection, conversation_id: int) -> dict[str, Any] | None:
    """The conversation's latest decision (a correction, if an agent made the latest
    one), or None before its first inbound message. The caller checks the scope."""
    row = conn.execute(_LATEST, {"cid": conversation_id}).first()
    return None if row is None else dict(row._mapping)
