"""Response targets: when a waiting customer is owed a first answer.

Pure: the inbox's calendar (core/hours.py) and the channel decide. Business time
counts only the inbox's open hours, so an email at Friday 16:00 with a target of
4 business hours is due Monday 12:00 on a 9-17 calendar. An inbox without hours
is always open: business time is calendar time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from threadline.core.hours import Hours, parse_hours
from threadline.core.model import Channel

__all__ = ["FIRST_RESPONSE", "Target", "add_business_time", "first_response_due"]

# Far enough to step over any run of holidays; a calendar never open in that
# time is refused rather than searched for ever.
_SEARCH_DAYS = 400


@dataclass(frozen=True, slots=True)
class Target:
    within: timedelta
    business: bool = True  # counted in the inbox's open hours, or on the wall clock


# The norms a small team holds each channel to (issue 9 makes them editable per
# channel and priority): chat within a minute, SMS within 15 minutes, social DMs
# within 2 hours, email within 4 business hours, a missed call called back in 2.
FIRST_RESPONSE: Mapping[Channel, Target] = {
    Channel.CHAT: Target(timedelta(seconds=60)),
    Channel.SMS: Target(timedelta(minutes=15)),
    Channel.WHATSAPP: Target(timedelta(hours=2)),
    Channel.MESSENGER: Target(timedelta(hours=2)),
    Channel.INSTAGRAM: Target(timedelta(hours=2)),
    Channel.TELEGRAM: Target(timedelta(hours=2)),
    Channel.EMAIL: Target(timedelta(hours=4)),
    Channel.VOICE: Target(timedelta(hours=2)),
    Channel.API: Target(timedelta(hours=4)),
}


def add_business_time(hours: Hours | None, start: datetime, amount: timedelta) -> datetime:
    """``start`` plus ``amount`` of open time (UTC). Each open span is measured in
    real elapsed time, so a span across a DST change counts what really passed.

    Raises ValueError for a naive ``start`` or a calendar with no open hours ahead.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("naive datetime: response targets need an aware one")
    start = start.astimezone(UTC)
    if amount <= timedelta(0):
        return start
    if hours is None:
        return start + amount
    left = amount
    first_day = start.astimezone(hours.tz).date()
    for offset in range(-1, _SEARCH_DAYS):  # the day before: a span may still be running
        day = first_day + timedelta(days=offset)
        midnight = datetime(day.year, day.month, day.day, tzinfo=hours.tz)
        for begin, end in hours.spans_on(day):
            # Aware + timedelta is wall-clock arithmetic; UTC settles DST gaps.
            opens = (midnight + begin).astimezone(UTC)
            closes = (midnight + end).astimezone(UTC)
            if closes <= start:
                continue
            counted_from = max(opens, start)
            available = closes - counted_from
            if left <= available:
                return counted_from + left
            left -= available
    raise ValueError(f"the calendar has no open hours in the next {_SEARCH_DAYS} days")


def first_response_due(
    hours_config: Mapping[str, Any] | None, channel: Channel, since: datetime
) -> datetime:
    """When the customer waiting since ``since`` on ``channel`` is owed an answer.

    A calendar that cannot be read counts calendar time: a typo in an inbox's
    hours must never stop a message from being stored.
    """
    target = FIRST_RESPONSE.get(channel, Target(timedelta(hours=4)))
    try:
        hours = parse_hours(hours_config) if target.business else None
        return add_business_time(hours, since, target.within)
    except ValueError:
        return add_business_time(None, since, target.within)
