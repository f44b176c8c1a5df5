"""What the chat widget tells a visitor about when they will be answered.

Pure: the inbox's calendar (core/hours.py), whether an agent is online, and the
time come in. "Online" needs both an agent online and business hours; the
``expect`` line says when an answer will come, from the chat response target
(core/sla.py) when someone is there, from the next opening when nobody is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from threadline.core.hours import open_at, opening_after, parse_hours
from threadline.core.model import Channel
from threadline.core.promise import describe_target, describe_when
from threadline.core.sla import FIRST_RESPONSE, Target

__all__ = ["Availability", "availability", "describe_wait", "describe_when"]


@dataclass(frozen=True, slots=True)
class Availability:
    online: bool
    expect: str


def describe_wait(wait: timedelta) -> str:
    """'a minute', '15 minutes', '1 hour', '2 days': a reply target as a visitor reads it."""
    seconds = max(wait.total_seconds(), 0.0)
    if seconds <= 60:
        return "a minute"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} minutes"
    hours = round(seconds / 3600)
    if hours < 24:
        return "1 hour" if hours == 1 else f"{hours} hours"
    days = round(seconds / 86400)
    return "1 day" if days == 1 else f"{days} days"


def availability(
    hours: Mapping[str, Any] | None,
    now: datetime,
    *,
    agents_online: bool,
    target: Target | None = None,
) -> Availability:
    """Whether the widget shows "online", and the line that says what to expect.

    ``target`` is the chat inbox's stored first-response policy (Settings →
    Response targets); without one, the built-in chat norm. Its words are the
    contact page's and the off-hours reply's (core/promise.py). A calendar that
    cannot be read counts as always open, as everywhere else (core/sla.py): a
    typo in the hours must not tell every visitor "closed".
    """
    try:
        calendar = parse_hours(hours)
    except ValueError:
        calendar = None
    open_now = open_at(calendar, now)
    if open_now and agents_online:
        said = describe_target(target or FIRST_RESPONSE[Channel.CHAT], calendar)
        return Availability(True, f"We usually reply {said}")
    if open_now:
        return Availability(False, "Nobody is free right now; we'll reply here or by email")
    try:
        opening = describe_when(opening_after(calendar, now), now)
    except ValueError:
        return Availability(False, "We're away right now; we'll reply by email")
    return Availability(False, f"We're back {opening}; we'll reply by email")
