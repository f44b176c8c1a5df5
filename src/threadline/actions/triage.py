"""Storing triage: every inbound message's decision, and agents' corrections of it.

``triage_message`` runs inside ``receive_inbound``'s unit of work: classifying is pure
and takes microseconds, so the decision commits with the message, and a conversation
is never seen without one. A conversation's latest decision is its decision; its
category becomes the conversation's unless an agent has set it (then the agent's
stays, and later decisions keep it too).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from threadline.actions.config import ActionConfig
from threadline.actions.errors import ActionError, NotFound
from threadline.actions.timeline import add_entry
from threadline.core.channels import REPLY_IDENTITY
from threadline.core.events import ConversationChanged
from threadline.core.model import Channel
from threadline.core.triage import Category, Decision, classify
from threadline.storage.db import Tx
from threadline.storage.sql import Statement, db_bool, db_json, db_time, run
from threadline.storage.tables import conversations, triage_decisions

__all__ = ["correct_triage", "reachable_channels", "triage_message"]

_LATEST = (
    sa.select(
        triage_decisions.c.id,
        triage_decisions.c.message_id,
        triage_decisions.c.category,
        triage_decisions.c.urgent,
        triage_decisions.c.sensitive,
        triage_decisions.c.recommended_channel,
        triage_decisions.c.reasons,
        triage_decisions.c.category_by_agent,
    )
    .where(triage_decisions.c.conversation_id == sa.bindparam("cid"))
    .order_by(triage_decisions.c.id.desc())
    .limit(1)
)
# On the driver's cursor: they run for every inbound message (storage/sql.py).
_KINDS = Statement("SELECT kind FROM identities WHERE customer_id = :customer")
_AGENTS_CATEGORY = Statement(
    "SELECT category, category_by_agent FROM triage_decisions WHERE conversation_id = :cid "
    "ORDER BY id DESC LIMIT 1"
)
_SET_CATEGORY = Statement(
    "UPDATE conversations SET category = :cat "
    "WHERE id = :cid AND (category IS NULL OR category != :cat)"
)
_INSERT = Statement(
    "INSERT INTO triage_decisions (conversation_id, message_id, category, urgent, sensitive, "
    "recommended_channel, reasons, category_by_agent, created_at) VALUES (:cid, :mid, "
    ":category, :urgent, :sensitive, :channel, :reasons, :by_agent, :now)"
)


def reachable_channels(tx: Tx, customer_id: int, inbound: Channel) -> set[Channel]:
    """The channels a reply to this customer can go out on: one per identity kind they
    have (a phone number: SMS and a call), and the one they just wrote on."""
    kinds = {row[0] for row in run(tx, _KINDS, {"customer": customer_id}).fetchall()}
    out = {c for c, kind in REPLY_IDENTITY.items() if kind is not None and kind in kinds}
    out.add(inbound)
    return out


def triage_message(
    tx: Tx,
    cfg: ActionConfig,
    *,
    conversation_id: int,
    customer_id: int,
    message_id: int,
    text: str,
    channel: Channel,
    attachments: int = 0,
) -> Decision:
    """Classify an inbound message and store the decision as the conversation's."""
    decision = classify(
        text,
        channel,
        cfg.lexicons.in_action(tx, cfg.lexicon),
        reachable=reachable_channels(tx, customer_id, channel),
        attachments=attachments,
    )
    previous = run(tx, _AGENTS_CATEGORY, {"cid": conversation_id}).fetchone()
    category, by_agent, reasons = decision.category.value, False, list(decision.reasons)
    if previous is not None and previous[1]:
        category, by_agent = previous[0], True
        if category != decision.category.value:
            reasons.append(f"category stays {category}: set by an agent")
    run(
        tx,
        _INSERT,
        {
            "cid": conversation_id,
            "mid": message_id,
            "category": category,
            "urgent": db_bool(tx, decision.urgent),
            "sensitive": db_bool(tx, decision.sensitive),
            "channel": decision.channel.value if decision.channel else None,
            "reasons": db_json(tx, reasons),
            "by_agent": db_bool(tx, by_agent),
            "now": db_time(tx, tx.now),
        },
    )
    if not by_agent:
        run(tx, _SET_CATEGORY, {"cid": conversation_id, "cat": category})
    return decision


def correct_triage(
    tx: Tx,
    conversation_id: int,
    *,
    actor_id: int,
    category: str | None = None,
    urgent: bool | None = None,
    sensitive: bool | None = None,
) -> tuple[str, ...]:
    """An agent corrects the conversation's decision: a new decision that says who
    changed what from what, and a timeline entry. Returns the fields that changed
    (none: nothing is recorded). The caller checks the conversation is in scope."""
    if category is not None and category not in Category._value2member_map_:
        raise ActionError(f"unknown category {category[:40]!r}")
    conv = tx.conn.execute(
        sa.select(conversations.c.customer_id).where(conversations.c.id == conversation_id)
    ).first()
    if conv is None:
        raise NotFound(f"conversation {conversation_id} not found")
    current = tx.conn.execute(_LATEST, {"cid": conversation_id}).first()
    if current is None:
        raise ActionError("this conversation has no triage decision to correct")
    wanted = {"category": category, "urgent": urgent, "sensitive": sensitive}
    changes: dict[str, dict[str, Any]] = {
        field: {"from": getattr(current, field), "to": value}
        for field, value in wanted.items()
        if value is not None and value != getattr(current, field)
    }
    if not changes:
        return ()
    new = {field: change["to"] for field, change in changes.items()}
    said = ", ".join(f"{f} {c['from']} → {c['to']}" for f, c in changes.items())
    _insert(
        tx,
        conversation_id=conversation_id,
        message_id=current.message_id,
        category=new.get("category", current.category),
        urgent=new.get("urgent", current.urgent),
        sensitive=new.get("sensitive", current.sensitive),
        recommended_channel=current.recommended_channel,
        reasons=[*current.reasons, f"corrected by an agent: {said}"],
        category_by_agent=current.category_by_agent or "category" in changes,
        corrected_by_id=actor_id,
        corrects_id=current.id,
        changes=changes,
    )
    if "category" in changes:
        run(tx, _SET_CATEGORY, {"cid": conversation_id, "cat": new["category"]})
    add_entry(
        tx,
        customer_id=conv.customer_id,
        conversation_id=conversation_id,
        kind="triage_corrected",
        data={"changes": changes, "by": actor_id},
    )
    tx.emit(ConversationChanged(conversation_id, ("triage", *changes)))
    return tuple(changes)


def _insert(tx: Tx, **values: Any) -> None:
    tx.conn.execute(triage_decisions.insert().values(created_at=tx.now, **values))
