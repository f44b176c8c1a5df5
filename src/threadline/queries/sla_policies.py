"""The SLA policy table as admins see it: every channel, priority and kind, the
stored row where there is one, else the default (core/sla.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.core.hours import DAYS
from threadline.core.model import Channel
from threadline.core.off_hours import OffHoursReply, read_off_hours
from threadline.core.sla import DEFAULT_POLICIES, PRIORITIES, Kind, Target, policy_targets
from threadline.storage.tables import as_utc, inboxes, sla_policies

__all__ = [
    "callback_policy",
    "first_response_targets",
    "inbox_calendar",
    "inbox_off_hours",
    "list_policies",
]


def list_policies(conn: Connection) -> list[dict[str, Any]]:
    """One entry per channel, priority and kind that has a target, in a stable order."""
    stored = {(r.channel, r.priority, r.kind): r for r in conn.execute(sa.select(sla_policies))}
    out = []
    for channel in Channel:
        for priority in PRIORITIES:
            for kind in Kind:
                row = stored.get((channel.value, priority, kind.value))
                if row is not None:
                    seconds, business, warn = row.seconds, bool(row.business), row.warn_percent
                elif (default := DEFAULT_POLICIES.get((channel, priority, kind))) is not None:
                    seconds = int(default.within.total_seconds())
                    business, warn = default.business, default.warn_percent
                else:
                    continue
                out.append(
                    {
                        "channel": channel.value,
                        "priority": priority,
                        "kind": kind.value,
                        "seconds": seconds,
                        "business": business,
                        "warn_percent": warn,
                        "updated_at": as_utc(row.updated_at) if row is not None else None,
                    }
                )
    return out


def first_response_targets(conn: Connection) -> dict[str, Target]:
    """Each channel's first-response target for a new conversation (normal
    priority), stored over the defaults: what a customer is promised before
    anyone has looked at their message. One read of at most a row per channel."""
    targets = {
        channel: target
        for (channel, priority, kind), target in DEFAULT_POLICIES.items()
        if priority == "normal" and kind is Kind.FIRST_RESPONSE
    }
    rows = conn.execute(
        sa.select(
            sla_policies.c.channel,
            sla_policies.c.seconds,
            sla_policies.c.business,
            sla_policies.c.warn_percent,
        ).where(
            sla_policies.c.priority == "normal",
            sla_policies.c.kind == Kind.FIRST_RESPONSE.value,
        )
    )
    for channel, seconds, business, warn in rows:
        targets[channel] = Target(timedelta(seconds=seconds), bool(business), warn)
    return targets


_CALLBACK = sa.select(
    sla_policies.c.kind,
    sla_policies.c.seconds,
    sla_policies.c.business,
    sla_policies.c.warn_percent,
).where(
    sla_policies.c.channel == Channel.VOICE.value,
    sla_policies.c.priority == sa.bindparam("priority"),
    sla_policies.c.kind == Kind.CALLBACK.value,
)


def callback_policy(conn: Connection, priority: str = "normal") -> Target:
    """The voice policy's callback target for the priority: the stored row, else the
    default (what a caller is promised before anyone has looked at the call)."""
    stored = conn.execute(_CALLBACK, {"priority": priority}).all()
    targets = policy_targets(Channel.VOICE, priority, stored)
    return targets.get(Kind.CALLBACK) or Target(timedelta(hours=2))


def inbox_calendar(conn: Connection, inbox_id: int) -> dict[str, Any] | None:
    """The inbox's calendar as stored (None for no inbox; an empty dict: always open),
    never the rest of its config."""
    row = conn.execute(sa.select(inboxes.c.config).where(inboxes.c.id == inbox_id)).first()
    if row is None:
        return None
    hours = (row.config or {}).get("hours")
    if not isinstance(hours, dict):
        return {}
    days = hours.get("days")
    return {
        "timezone": hours.get("timezone") or "UTC",
        "days": {d: (days or {}).get(d, []) for d in DAYS} if isinstance(days, dict) else None,
        "holidays": list(hours.get("holidays") or []),
        "country": hours.get("country"),
        "subdivision": hours.get("subdivision"),
    }


def inbox_off_hours(conn: Connection, inbox_id: int) -> tuple[OffHoursReply, bool] | None:
    """The inbox's off-hours reply as it holds (a stored one that no longer passes the
    checks is off) and whether the contact page lists the inbox; None for no inbox.
    Never the rest of its config."""
    row = conn.execute(sa.select(inboxes.c.config).where(inboxes.c.id == inbox_id)).first()
    if row is None:
        return None
    config = row.config or {}
    return read_off_hours(config), config.get("contact_page") is not False
