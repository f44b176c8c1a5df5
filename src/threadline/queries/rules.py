"""Routing rules as stored, and the facts a rule is checked against.

``load_facts`` is the one place that turns the database into core.rules.Facts,
the triage decision's urgency and sensitivity included.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.core.hours import is_open
from threadline.core.rules import Facts, Rule
from threadline.core.rules_parse import parse_rule
from threadline.queries.triage import latest_triage
from threadline.storage.tables import (
    conversation_tags,
    conversations,
    customers,
    inboxes,
    messages,
    rule_versions,
    rules,
)

__all__ = [
    "active_rules",
    "list_rules",
    "load_facts",
    "rule_detail",
    "rule_key",
    "rule_versions_of",
]


def _shape(row: Any) -> dict[str, Any]:
    definition = dict(row.definition)
    return {
        "id": row.id,
        "name": row.name,
        "enabled": row.enabled,
        "position": row.position,
        "version": row.version,
        "events": list(definition.get("events", [])),
        "conditions": list(definition.get("conditions", [])),
        "actions": list(definition.get("actions", [])),
        "stop": bool(definition.get("stop", False)),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def list_rules(conn: Connection) -> list[dict[str, Any]]:
    """Every current rule, in the order they run."""
    rows = conn.execute(
        sa.select(rules).where(rules.c.deleted_at.is_(None)).order_by(rules.c.position, rules.c.id)
    )
    return [_shape(r) for r in rows]


def rule_detail(conn: Connection, rule_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(rules).where(rules.c.id == rule_id, rules.c.deleted_at.is_(None))
    ).first()
    return None if row is None else _shape(row)


def rule_versions_of(conn: Connection, rule_id: int) -> list[dict[str, Any]]:
    """The rule's versions, newest first (also of a deleted rule: the timeline names them)."""
    rows = conn.execute(
        sa.select(rule_versions)
        .where(rule_versions.c.rule_id == rule_id)
        .order_by(rule_versions.c.version.desc())
    )
    return [
        {
            "rule_id": r.rule_id,
            "version": r.version,
            "name": r.name,
            "enabled": r.enabled,
            **{k: r.definition.get(k) for k in ("events", "conditions", "actions")},
            "stop": bool(r.definition.get("stop", False)),
            "created_at": r.created_at,
            "created_by": r.created_by,
        }
        for r in rows
    ]


def rule_key(conn: Connection) -> tuple[tuple[int, int, int], ...]:
    """What the compiled rules depend on: each enabled rule's id, version and position.
    A cache compares this (one small query) before compiling again."""
    rows = conn.execute(
        sa.select(rules.c.id, rules.c.version, rules.c.position)
        .where(rules.c.deleted_at.is_(None), rules.c.enabled.is_(True))
        .order_by(rules.c.position, rules.c.id)
    )
    return tuple((r.id, r.version, r.position) for r in rows)


def active_rules(conn: Connection) -> list[Rule]:
    rows = conn.execute(
        sa.select(rules).where(rules.c.deleted_at.is_(None), rules.c.enabled.is_(True))
    )
    return [
        parse_rule(
            {
                **r.definition,
                "id": r.id,
                "version": r.version,
                "position": r.position,
                "name": r.name,
                "enabled": True,
            }
        )
        for r in rows
    ]


def load_facts(
    conn: Connection, conversation_id: int, message_id: int | None, now: datetime
) -> Facts | None:
    """The facts of the conversation (and of the message, if any) now; None if gone."""
    conv = conn.execute(
        sa.select(
            conversations.c.customer_id,
            conversations.c.inbox_id,
            conversations.c.status,
            conversations.c.priority,
            conversations.c.category,
            conversations.c.escalation_level,
            conversations.c.assignee_id,
            conversations.c.last_inbound_channel,
            conversations.c.last_inbound_at,
            conversations.c.last_agent_at,
            conversations.c.status_changed_at,
            conversations.c.created_at,
        ).where(conversations.c.id == conversation_id)
    ).first()
    if conv is None:
        return None
    text, channel = "", conv.last_inbound_channel or ""
    if message_id is not None:
        msg = conn.execute(
            sa.select(messages.c.text, messages.c.channel).where(
                messages.c.id == message_id, messages.c.conversation_id == conversation_id
            )
        ).first()
        if msg is not None:
            text, channel = msg.text or "", msg.channel
    tags = frozenset(
        conn.execute(
            sa.select(conversation_tags.c.tag).where(
                conversation_tags.c.conversation_id == conversation_id
            )
        ).scalars()
    )
    attributes = conn.execute(
        sa.select(customers.c.attributes).where(customers.c.id == conv.customer_id)
    ).scalar()
    hours = None
    if conv.inbox_id is not None:
        config = conn.execute(
            sa.select(inboxes.c.config).where(inboxes.c.id == conv.inbox_id)
        ).scalar()
        hours = (config or {}).get("hours")
    waited = conv.last_inbound_at
    triage = latest_triage(conn, conversation_id)
    return Facts(
        channel=channel,
        inbox_id=conv.inbox_id,
        category=conv.category,
        # The latest triage decision (an agent's correction wins); none yet: no match.
        urgent=bool(triage and triage["urgent"]),
        sensitive=bool(triage and triage["sensitive"]),
        priority=conv.priority,
        tags=tags,
        attributes={str(k): str(v) for k, v in (attributes or {}).items()},
        text=text,
        open_now=_open(hours, now),
        status=conv.status,
        escalation_level=conv.escalation_level,
        assigned=conv.assignee_id is not None,
        hours_since_customer=_hours(now, waited),
        hours_since_agent=_hours(now, conv.last_agent_at),
        hours_in_status=_hours(now, conv.status_changed_at or conv.created_at),
    )


def _hours(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else (now - then).total_seconds() / 3600


def _open(hours: Any, now: datetime) -> bool:
    try:
        return is_open(hours, now)
    except ValueError:
        return True  # a calendar that cannot be read is reported where it is edited
