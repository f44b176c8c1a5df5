"""Admins edit the SLA policies and an inbox's business calendar.

A policy edit holds from the next message in every process (actions/sla.py reads
the policies per action); a calendar edit from the next time the inboxes are read
(the web layer reloads them after it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from threadline.actions.errors import ActionError, NotFound
from threadline.core.hours import parse_hours
from threadline.core.model import Channel
from threadline.core.sla import PRIORITIES, Kind, Target, check_target
from threadline.storage.db import Tx
from threadline.storage.tables import audit_log, inboxes, sla_policies

__all__ = ["CALENDAR_KEYS", "check_policy_key", "set_inbox_calendar", "set_policy"]

CALENDAR_KEYS = frozenset({"timezone", "days", "holidays", "country", "subdivision"})


def check_policy_key(channel: str, priority: str, kind: str) -> tuple[str, str, Kind]:
    """Raises NotFound for a channel, priority or kind that has no policy."""
    if channel not in Channel.__members__.values():
        raise NotFound(f"no channel {channel!r}")
    if priority not in PRIORITIES:
        raise NotFound(f"no priority {priority!r}: {', '.join(PRIORITIES)}")
    if kind not in Kind.__members__.values():
        raise NotFound(f"no target kind {kind!r}: {', '.join(Kind)}")
    return channel, priority, Kind(kind)


def _audit(tx: Tx, actor: str, action: str, subject: str, data: dict[str, Any]) -> None:
    tx.conn.execute(
        audit_log.insert(),
        {"actor": actor, "action": action, "subject": subject, "data": data, "created_at": tx.now},
    )


def set_policy(
    tx: Tx,
    *,
    channel: str,
    priority: str,
    kind: str,
    seconds: Any,
    business: Any,
    warn_percent: Any,
    actor_id: int | None,
) -> Target:
    """Store the target of one channel, priority and kind (replacing the seeded or
    default one). Conversations already running keep their due times; the next
    message, answer or priority change uses the new target."""
    channel, priority, key_kind = check_policy_key(channel, priority, kind)
    try:
        target = check_target(seconds, business, warn_percent)
    except ValueError as exc:
        raise ActionError(str(exc)) from exc
    values = {
        "seconds": int(target.within.total_seconds()),
        "business": target.business,
        "warn_percent": target.warn_percent,
        "updated_at": tx.now,
        "updated_by": actor_id,
    }
    where = (
        sla_policies.c.channel == channel,
        sla_policies.c.priority == priority,
        sla_policies.c.kind == key_kind.value,
    )
    if tx.conn.execute(sla_policies.update().where(*where).values(**values)).rowcount == 0:
        tx.conn.execute(
            sla_policies.insert().values(
                channel=channel, priority=priority, kind=key_kind.value, **values
            )
        )
    _audit(
        tx,
        f"user:{actor_id}" if actor_id is not None else "system",
        "sla_policy.update",
        f"sla_policy:{channel}/{priority}/{key_kind.value}",
        {k: v for k, v in values.items() if k in ("seconds", "business", "warn_percent")},
    )
    return target


def set_inbox_calendar(
    tx: Tx, inbox_id: int, hours: Mapping[str, Any] | None, *, actor: str
) -> None:
    """Replace the inbox's calendar (its config's ``hours``; None: always open).
    Raises ActionError saying what cannot be read: a time zone, a day, a holiday,
    an unknown country or subdivision."""
    if hours is not None:
        unknown = set(hours) - CALENDAR_KEYS
        if unknown:
            raise ActionError(f"not a calendar setting: {', '.join(sorted(unknown))}")
        try:
            parsed = parse_hours(hours)
        except ValueError as exc:
            raise ActionError(str(exc)) from exc
        if parsed is not None and parsed.country is not None:  # as the package spells them
            hours = {**hours, "country": parsed.country, "subdivision": parsed.subdivision}
    config = tx.conn.execute(sa.select(inboxes.c.config).where(inboxes.c.id == inbox_id)).first()
    if config is None:
        raise NotFound(f"inbox {inbox_id} not found")
    # Only ``hours`` changes: the sealed secrets beside it are kept as they are
    # (each is bound to its inbox and key, not to the rest of the config).
    merged = {k: v for k, v in (config.config or {}).items() if k != "hours"}
    if hours:
        merged["hours"] = dict(hours)
    tx.conn.execute(inboxes.update().where(inboxes.c.id == inbox_id).values(config=merged))
    _audit(tx, actor, "inbox.calendar", f"inbox:{inbox_id}", {"hours": merged.get("hours")})
