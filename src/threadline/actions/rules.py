"""Routing rules as admins edit them: every edit a new version, old ones kept.

A timeline entry names the rule and the version that ran ("rule Refunds (v3)
added the tag billing"), so a version is never rewritten: an edit, enabling or
disabling adds one; deleting keeps the row (``deleted_at``) and its versions.
The position only orders the rules and is not a version of any one of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from threadline.actions.errors import ActionError, NotFound
from threadline.actions.rule_sweep import sweep_now, timed_rules
from threadline.core.rules import RuleError
from threadline.core.rules_eval import MAX_RULES
from threadline.core.rules_parse import parse_rule
from threadline.core.rules_sweep import MAX_TIMED_RULES, TIME_PASSED
from threadline.storage.db import Tx
from threadline.storage.tables import audit_log, rule_versions, rules

__all__ = [
    "DEFINITION_KEYS",
    "create_rule",
    "delete_rule",
    "order_rules",
    "set_rule_enabled",
    "update_rule",
]

# What a version holds besides its name and enabled flag (parse_rule's other keys).
DEFINITION_KEYS = ("events", "conditions", "actions", "stop")


def _check(data: Mapping[str, Any]) -> dict[str, Any]:
    """The rule's definition as stored, after parse_rule accepted the whole of it."""
    try:
        parse_rule(data)
    except RuleError as exc:
        raise ActionError(f"invalid rule: {exc}") from exc
    return {k: data[k] for k in DEFINITION_KEYS if k in data}


def _timed(tx: Tx, definition: Mapping[str, Any], enabled: bool) -> None:
    """A time_passed rule switched on: within the bound, and swept at once."""
    if not enabled or TIME_PASSED not in definition.get("events", ()):
        return
    if timed_rules(tx) > MAX_TIMED_RULES:
        raise ActionError(f"at most {MAX_TIMED_RULES} rules can listen to time_passed at once")
    sweep_now(tx)


def _audit(tx: Tx, actor_id: int | None, action: str, rule_id: int, data: dict[str, Any]) -> None:
    tx.conn.execute(
        audit_log.insert(),
        {
            "actor": f"user:{actor_id}" if actor_id is not None else "system",
            "action": action,
            "subject": f"rule:{rule_id}",
            "data": data,
            "created_at": tx.now,
        },
    )


def _current(tx: Tx, rule_id: int) -> sa.Row[Any]:
    row = tx.conn.execute(
        sa.select(rules).where(rules.c.id == rule_id, rules.c.deleted_at.is_(None))
    ).first()
    if row is None:
        raise NotFound(f"rule {rule_id} not found")
    return row


def _add_version(
    tx: Tx,
    rule_id: int,
    version: int,
    name: str,
    enabled: bool,
    definition: dict[str, Any],
    actor_id: int | None,
) -> None:
    tx.conn.execute(
        rule_versions.insert(),
        {
            "rule_id": rule_id,
            "version": version,
            "name": name,
            "enabled": enabled,
            "definition": definition,
            "created_at": tx.now,
            "created_by": actor_id,
        },
    )


def create_rule(tx: Tx, data: Mapping[str, Any], *, actor_id: int | None) -> int:
    """Store a new rule (version 1) after every other rule, unless a position is given."""
    definition = _check({k: v for k, v in data.items() if k not in ("id", "version")})
    live = sa.select(sa.func.count()).select_from(rules).where(rules.c.deleted_at.is_(None))
    if (tx.conn.execute(live).scalar() or 0) >= MAX_RULES:
        raise ActionError(f"a desk has at most {MAX_RULES} rules")
    position = data.get("position")
    if position is None:
        last = tx.conn.execute(
            sa.select(sa.func.max(rules.c.position)).where(rules.c.deleted_at.is_(None))
        ).scalar()
        position = 0 if last is None else last + 1
    name, enabled = str(data["name"]).strip(), bool(data.get("enabled", True))
    rule_id = int(
        tx.conn.execute(
            rules.insert()
            .values(
                name=name,
                enabled=enabled,
                position=position,
                version=1,
                definition=definition,
                created_at=tx.now,
                updated_at=tx.now,
            )
            .returning(rules.c.id)
        ).scalar_one()
    )
    _add_version(tx, rule_id, 1, name, enabled, definition, actor_id)
    _timed(tx, definition, enabled)
    _audit(tx, actor_id, "rule.create", rule_id, {"name": name})
    return rule_id


def update_rule(tx: Tx, rule_id: int, data: Mapping[str, Any], *, actor_id: int | None) -> int:
    """Replace the rule with ``data`` as its next version; returns the version."""
    row = _current(tx, rule_id)
    definition = _check({k: v for k, v in data.items() if k not in ("id", "version")})
    name, enabled = str(data["name"]).strip(), bool(data.get("enabled", True))
    version = int(row.version) + 1
    values: dict[str, Any] = {"name": name, "enabled": enabled, "definition": definition}
    if data.get("position") is not None:
        values["position"] = data["position"]
    tx.conn.execute(
        rules.update()
        .where(rules.c.id == rule_id)
        .values(**values, version=version, updated_at=tx.now)
    )
    _add_version(tx, rule_id, version, name, enabled, definition, actor_id)
    _timed(tx, definition, enabled)
    _audit(tx, actor_id, "rule.update", rule_id, {"version": version})
    return version


def set_rule_enabled(tx: Tx, rule_id: int, enabled: bool, *, actor_id: int | None) -> int:
    """Enable or disable the rule as a new version (unless it already is); returns it."""
    row = _current(tx, rule_id)
    if row.enabled == enabled:
        return int(row.version)
    version = int(row.version) + 1
    tx.conn.execute(
        rules.update()
        .where(rules.c.id == rule_id)
        .values(enabled=enabled, version=version, updated_at=tx.now)
    )
    _add_version(tx, rule_id, version, row.name, enabled, dict(row.definition), actor_id)
    _timed(tx, row.definition, enabled)
    _audit(
        tx, actor_id, "rule.enable" if enabled else "rule.disable", rule_id, {"version": version}
    )
    return version


def delete_rule(tx: Tx, rule_id: int, *, actor_id: int | None) -> None:
    """The rule stops running and leaves the list; its versions stay for the timeline."""
    _current(tx, rule_id)
    tx.conn.execute(
        rules.update()
        .where(rules.c.id == rule_id)
        .values(enabled=False, deleted_at=tx.now, updated_at=tx.now)
    )
    _audit(tx, actor_id, "rule.delete", rule_id, {})


def order_rules(tx: Tx, rule_ids: Sequence[int], *, actor_id: int | None) -> None:
    """Put the rules in this order; every current rule is named exactly once."""
    current = set(
        tx.conn.execute(sa.select(rules.c.id).where(rules.c.deleted_at.is_(None))).scalars()
    )
    if len(rule_ids) != len(set(rule_ids)) or set(rule_ids) != current:
        raise ActionError("name every rule exactly once, in the new order")
    for position, rule_id in enumerate(rule_ids):
        tx.conn.execute(
            rules.update()
            .where(rules.c.id == rule_id, rules.c.position != position)
            .values(position=position, updated_at=tx.now)
        )
    _audit(tx, actor_id, "rule.order", 0, {"order": list(rule_ids)})
