"""A conversation's intake: which of its category's facts the customer has given.

Computed on read from the stored messages, so nothing is kept that a new message or an
edited checklist could make stale: one indexed read of the customer's newest messages,
each cut in SQL, then the pure core/intake.py.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.core.intake import MAX_TEXT, Checklist, ask_text, extract
from threadline.core.language import guess_language
from threadline.core.model import Direction
from threadline.storage.tables import conversations, messages

__all__ = ["MAX_MESSAGES", "conversation_intake", "intake_of"]

MAX_MESSAGES = 20  # the customer's newest; extract reads MAX_TEXT characters of them at most

_m = messages
_TEXTS = (
    sa.select(sa.func.substr(_m.c.text, 1, MAX_TEXT).label("text"))
    .where(
        _m.c.conversation_id == sa.bindparam("cid"),
        _m.c.direction == Direction.INBOUND.value,
    )
    .order_by(_m.c.id.desc())
    .limit(MAX_MESSAGES)
)
_CONVERSATION = sa.select(
    conversations.c.category, sa.func.substr(conversations.c.subject, 1, 500).label("subject")
).where(conversations.c.id == sa.bindparam("cid"))


def intake_of(checklist: Checklist, category: str | None, texts: list[str]) -> dict[str, Any]:
    """The intake of these texts (oldest first) as the page and the API show it."""
    intake = extract(checklist, category, texts)
    facts = checklist.facts.get(intake.category, ())
    language = guess_language(texts)
    return {
        "category": intake.category,
        "found": intake.found,
        "missing": intake.missing,
        "facts": [
            {
                "key": f.key,
                "label": f.label,
                "value": intake.found.get(f.key),
                "optional": f.optional,
            }
            for f in facts
        ],
        "language": language,
        "ask": ask_text(checklist, intake, language),
    }


def conversation_intake(
    conn: Connection, conversation_id: int, checklist: Checklist
) -> dict[str, Any]:
    """The conversation's intake for its current category. The caller checks the scope."""
    convo = conn.execute(_CONVERSATION, {"cid": conversation_id}).first()
    rows = conn.execute(_TEXTS, {"cid": conversation_id}).scalars().all()
    # An email's subject often names the order ("Order #48213 never arrived"): it
    # counts as the oldest thing the customer wrote.
    texts = [t for t in (convo.subject if convo else None, *reversed(rows)) if t]
    return intake_of(checklist, convo.category if convo else None, texts)
