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

from threadline.core.hours import is_open, next_open
from threadline.core.model import Channel
from threadline.core.sla import first_response_due

__all__ = ["Availability", "availability", "describe_wait", "describe_when"]

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


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


def describe_when(when: datetime, now: datetime) -> str:
    """'today at 13:00', 'tomorrow at 9:00', 'Monday 9:00', 'Monday 5 Jan 9:00'."""
    today = now.astimezone(when.tzinfo).date()
    at = f"{when.hour}:{when.minute:02d}"
    days = (when.date() - today).days
    if days <= 0:
        return f"today at {at}"
    if days == 1:
        return f"tomorrow at {at}"
    day = _DAYS[when.weekday()]
    if days < 7:
        return f"{day} {at}"
    return f"{day} {when.day} {_MONTHS[when.month - 1]} {at}"


def availability(
    hours: Mapping[str, Any] | None, now: datetime, *, agents_online: bool
) -> Availability:
    """Whether the widget shows "online", and the line that says what to expect.

    A calendar that cannot be read counts as always open, as everywhere else
    (core/sla.py): a typo in the hours must not tell every visitor "closed".
    """
    try:
        open_now = is_open(hours, now)
    except ValueError:
        open_now, hours = True, None
    if open_now and agents_online:
        due = first_response_due(hours, Channel.CHAT, now)
        return Availability(True, f"We usually reply within {describe_wait(due - now)}")
    if open_now:
        return Availability(False, "Nobody is free right now; we'll reply here or by email")
    try:
        opening = describe_when(next_open(hours, now), now)
    except ValueError:
        return Availability(False, "We're away right now; we'll reply by email")
    return Availability(False, f"We're back {opening}; we'll reply by email")
