"""Response and resolution targets: when a conversation is owed something.

Pure: the inbox's calendar (core/hours.py) and a policy's target decide. A target
counts business time (only the inbox's open hours, so an email at Friday 16:00
with a target of 4 business hours is due Monday 12:00 on a 9-17 calendar) or
calendar time (the wall clock). An inbox without hours is always open: business
time is calendar time. Time the conversation spends pending on the customer is
paused: it does not count.

Warnings follow one rule: a clock warns when ``warn_percent`` of its target has
elapsed, counted in the target's own time (80 % of 4 business hours is 3 h 12 min
of open hours). Since a pause stops the elapsed and the remaining time alike,
that is the same instant as "(100 - warn_percent) % of the target is left", so a
warning can also be found from a stored due time (``warn_before``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from threadline.core.hours import Hours, parse_hours
from threadline.core.model import Channel

__all__ = [
    "DEFAULT_POLICIES",
    "FIRST_RESPONSE",
    "MAX_CALLBACK_MINUTES",
    "MAX_TARGET",
    "PRIORITIES",
    "Clock",
    "Kind",
    "Pause",
    "Target",
    "add_business_time",
    "business_between",
    "callback_target",
    "check_target",
    "clocks",
    "due_at",
    "first_response_due",
    "policy_targets",
    "resume",
    "retarget",
    "subtract_business_time",
    "warn_at",
    "warn_before",
]

# Far enough to step over any run of holidays; a calendar never open in that
# time is refused rather than searched for ever.
_SEARCH_DAYS = 400
MAX_TARGET = timedelta(days=30)  # longer than any support norm; keeps the walks bounded
MAX_PAUSES = 1000
PRIORITIES = ("low", "normal", "high", "urgent")


class Kind(enum.StrEnum):
    FIRST_RESPONSE = "first_response"  # the customer's first message, until an agent answers
    NEXT_RESPONSE = "next_response"  # a customer message after an agent's answer
    RESOLUTION = "resolution"  # from the conversation's start (or reopening) to resolved
    CALLBACK = "callback"  # a missed call or a voicemail, until the task is done


@dataclass(frozen=True, slots=True)
class Target:
    within: timedelta
    business: bool = True  # counted in the inbox's open hours, or on the wall clock
    warn_percent: int = 80  # warn when this share of ``within`` has elapsed


Pause = tuple[datetime, datetime | None]  # [paused, resumed); None: still paused


def check_target(seconds: Any, business: Any, warn_percent: Any) -> Target:
    """A target as an admin or the API gives it. Raises ValueError saying what is wrong."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise ValueError(f"a target is a whole number of seconds, got {seconds!r}")
    if not 1 <= seconds <= MAX_TARGET.total_seconds():
        raise ValueError(f"a target is between 1 second and {MAX_TARGET.days} days")
    if not isinstance(business, bool):
        raise ValueError(f"business must be true or false, got {business!r}")
    if isinstance(warn_percent, bool) or not isinstance(warn_percent, int):
        raise ValueError(f"warn_percent is a whole number, got {warn_percent!r}")
    if not 1 <= warn_percent <= 100:
        raise ValueError("warn_percent is between 1 and 100 (100: warn at the due time)")
    return Target(timedelta(seconds=seconds), business, warn_percent)


# The norms a small team holds each channel to, for the first answer where no
# policy is stored (the widget's "we usually answer within"): chat within a
# minute, SMS within 15 minutes, social DMs within 2 hours, email within 4
# business hours, a missed call called back in 2. The stored policies
# (sla_policies, seeded with the same norms) are what conversations are held to.
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


def _defaults() -> dict[tuple[str, str, Kind], Target]:
    hour = timedelta(hours=1)
    social = (Channel.WHATSAPP, Channel.MESSENGER, Channel.INSTAGRAM, Channel.TELEGRAM)
    out: dict[tuple[str, str, Kind], Target] = {}
    for priority in PRIORITIES:
        for channel, target in FIRST_RESPONSE.items():
            out[channel, priority, Kind.FIRST_RESPONSE] = target
            out[channel, priority, Kind.NEXT_RESPONSE] = target
        fast = priority in ("high", "urgent")
        out[Channel.EMAIL, priority, Kind.RESOLUTION] = Target(
            (24 if fast else 48) * hour, business=False
        )
        for channel in social:
            out[channel, priority, Kind.RESOLUTION] = Target(24 * hour, business=False)
        out[Channel.VOICE, priority, Kind.CALLBACK] = Target(2 * hour)
    return out


MAX_CALLBACK_MINUTES = 43200  # an inbox's own callback target: at most 30 days


def callback_target(policy: Target, config: Mapping[str, Any]) -> Target:
    """A voice inbox's callback target: its ``callback_target_minutes``, where set,
    replaces the amount of the voice policy's (held to the policy's clock)."""
    minutes = config.get("callback_target_minutes")
    if (
        isinstance(minutes, int | float)
        and not isinstance(minutes, bool)
        and 0 < minutes <= MAX_CALLBACK_MINUTES
    ):
        return Target(timedelta(minutes=minutes), policy.business, policy.warn_percent)
    return policy


# The policies migration 0014 seeds (sla_policies), and what holds for a channel,
# priority and kind without a stored row. Responses count business hours (the same
# for every priority until an admin sets otherwise); resolutions count the wall clock:
# 24 h for social DMs, 24 h (urgent, high) to 48 h (normal, low) for email.
DEFAULT_POLICIES: Mapping[tuple[str, str, Kind], Target] = _defaults()
_KINDS = frozenset(Kind)


def policy_targets(
    channel: str, priority: str, stored: Iterable[Sequence[Any]]
) -> dict[Kind, Target]:
    """The ``stored`` policy rows (kind, seconds, business, warn_percent) over the defaults."""
    targets = {k: t for (c, p, k), t in DEFAULT_POLICIES.items() if c == channel and p == priority}
    for kind, seconds, business, warn in stored:
        if kind in _KINDS:
            targets[Kind(kind)] = Target(timedelta(seconds=seconds), bool(business), warn)
    return targets


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("naive datetime: response targets need an aware one")
    return at.astimezone(UTC)


def _open_spans(
    hours: Hours, first: datetime, days: Iterable[int]
) -> Iterable[tuple[datetime, datetime]]:
    """The calendar's open spans as UTC instants, day by day (offsets from the local
    date of ``first``). Aware + timedelta is wall-clock arithmetic; the round trip
    through UTC settles a start or end that falls in a DST gap, and measures a span
    across a DST change in the time that really passes."""
    first_day = first.astimezone(hours.tz).date()
    for offset in days:
        day = first_day + timedelta(days=offset)
        midnight = datetime(day.year, day.month, day.day, tzinfo=hours.tz)
        for begin, end in hours.spans_on(day):
            yield (midnight + begin).astimezone(UTC), (midnight + end).astimezone(UTC)


def add_business_time(hours: Hours | None, start: datetime, amount: timedelta) -> datetime:
    """``start`` plus ``amount`` of open time (UTC).

    Raises ValueError for a naive ``start`` or a calendar with no open hours ahead.
    """
    start = _utc(start)
    if amount <= timedelta(0):
        return start
    if hours is None:
        return start + amount
    left = amount
    # From the day before: a span of that day may still be running.
    for opens, closes in _open_spans(hours, start, range(-1, _SEARCH_DAYS)):
        if closes <= start:
            continue
        counted_from = max(opens, start)
        available = closes - counted_from
        if left <= available:
            return counted_from + left
        left -= available
    raise ValueError(f"the calendar has no open hours in the next {_SEARCH_DAYS} days")


def subtract_business_time(hours: Hours | None, end: datetime, amount: timedelta) -> datetime:
    """The latest instant with ``amount`` of open time between it and ``end`` (UTC)."""
    end = _utc(end)
    if amount <= timedelta(0):
        return end
    if hours is None:
        return end - amount
    left = amount
    for opens, closes in _backwards(hours, end):
        if opens >= end:
            continue
        counted_to = min(closes, end)
        available = counted_to - opens
        if left <= available:
            return counted_to - left
        left -= available
    raise ValueError(f"the calendar has no open hours in the last {_SEARCH_DAYS} days")


def _backwards(hours: Hours, end: datetime) -> Iterable[tuple[datetime, datetime]]:
    for offset in range(1, -_SEARCH_DAYS, -1):  # from the day after: DST and late spans
        yield from reversed(list(_open_spans(hours, end, (offset,))))


def business_between(hours: Hours | None, start: datetime, end: datetime) -> timedelta:
    """The open time from ``start`` to ``end`` (zero when ``end`` is not later)."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        return timedelta(0)
    if hours is None:
        return end - start
    if end - start > timedelta(days=_SEARCH_DAYS):
        raise ValueError(f"business time is measured over at most {_SEARCH_DAYS} days")
    total = timedelta(0)
    days = (end.astimezone(hours.tz).date() - start.astimezone(hours.tz).date()).days
    for opens, closes in _open_spans(hours, start, range(-1, days + 2)):
        overlap = min(closes, end) - max(opens, start)
        if overlap > timedelta(0):
            total += overlap
    return total


def _pauses(started: datetime, pauses: Sequence[Pause]) -> list[Pause]:
    """Sorted, merged, and only what lies after ``started``."""
    if len(pauses) > MAX_PAUSES:
        raise ValueError(f"at most {MAX_PAUSES} pauses are counted")
    cleaned: list[Pause] = []
    for begin, end in sorted(
        ((_utc(b), None if e is None else _utc(e)) for b, e in pauses),
        key=lambda p: p[0],
    ):
        if end is not None and end < begin:
            raise ValueError("a pause ends before it begins")
        if end is not None and end <= started:
            continue
        begin = max(begin, started)
        if cleaned and (cleaned[-1][1] is None or begin <= cleaned[-1][1]):  # overlaps
            last_begin, last_end = cleaned[-1]
            merged_end = None if last_end is None or end is None else max(last_end, end)
            cleaned[-1] = (last_begin, merged_end)
        else:
            cleaned.append((begin, end))
    return cleaned


def due_at(
    calendar: Hours | None, target: Target, started: datetime, pauses: Sequence[Pause] = ()
) -> datetime | None:
    """When ``target`` is reached for a clock started at ``started``, not counting
    the ``pauses``. None while a pause that began before then is still running: a
    stopped clock has no due time."""
    hours = calendar if target.business else None
    return _reach(hours, target.within, _utc(started), pauses)


def _reach(
    hours: Hours | None, amount: timedelta, started: datetime, pauses: Sequence[Pause]
) -> datetime | None:
    left, cursor = amount, started
    for begin, end in _pauses(started, pauses):
        if begin > cursor:
            candidate = add_business_time(hours, cursor, left)
            if candidate <= begin:
                return candidate
            left -= business_between(hours, cursor, begin)
        if end is None:
            return None
        cursor = max(cursor, end)
    return add_business_time(hours, cursor, left)


def warn_at(
    calendar: Hours | None, target: Target, started: datetime, pauses: Sequence[Pause] = ()
) -> datetime | None:
    """When ``warn_percent`` of the target has elapsed (None while paused before then)."""
    hours = calendar if target.business else None
    return _reach(hours, target.within * target.warn_percent / 100, _utc(started), pauses)


def warn_before(calendar: Hours | None, target: Target, due: datetime) -> datetime:
    """The warning of a clock from its stored due time: when what is left of it is
    ``100 - warn_percent`` % of the target."""
    hours = calendar if target.business else None
    return subtract_business_time(hours, due, target.within * (100 - target.warn_percent) / 100)


def resume(
    calendar: Hours | None, target: Target, due: datetime, paused_at: datetime, now: datetime
) -> datetime:
    """A clock's due time after a pause from ``paused_at`` to ``now``: what was left
    when it paused, counted again from ``now``. A clock already breached when it
    paused keeps its due time."""
    hours = calendar if target.business else None
    left = business_between(hours, paused_at, due)
    if left <= timedelta(0):
        return _utc(due)
    return add_business_time(hours, max(_utc(now), _utc(paused_at)), left)


def retarget(
    calendar: Hours | None, old: Target, new: Target, due: datetime, now: datetime
) -> datetime:
    """A running clock's due time under a new target (the conversation's priority
    changed): what has elapsed of the old target counts against the new one. For a
    paused clock, ``now`` is when it paused."""
    old_hours = calendar if old.business else None
    new_hours = calendar if new.business else None
    if _utc(due) > _utc(now):
        elapsed = old.within - business_between(old_hours, now, due)
    else:
        elapsed = old.within + business_between(old_hours, due, now)
    remaining = new.within - elapsed
    if remaining >= timedelta(0):
        return add_business_time(new_hours, now, remaining)
    return subtract_business_time(new_hours, now, -remaining)


@dataclass(frozen=True, slots=True)
class Clock:
    """One running target of a conversation, as it stands at ``now``."""

    kind: Kind
    due_at: datetime
    warn_at: datetime
    state: str  # running, warning, breached or paused
    left: timedelta  # of the target's own time; zero once breached


def clocks(
    calendar: Hours | None,
    targets: Mapping[Kind, Target],
    dues: Mapping[Kind, datetime | None],
    paused_at: datetime | None,
    now: datetime,
) -> list[Clock]:
    """The clocks of a conversation now, from its stored due times (None: not
    running) and whether it is paused. A clock without a policy warns at its due."""
    now = _utc(now)
    out = []
    for kind in Kind:
        due = dues.get(kind)
        if due is None:
            continue
        due = _utc(due)
        target = targets.get(kind)
        hours = calendar if target is None or target.business else None
        warn = due if target is None else warn_before(calendar, target, due)
        counted_to = now if paused_at is None else min(now, _utc(paused_at))
        if due <= counted_to:
            state, left = "breached", timedelta(0)
        else:
            left = business_between(hours, counted_to, due)
            state = "paused" if paused_at is not None else "warning" if warn <= now else "running"
        out.append(Clock(kind, due, warn, state, left))
    return out


def first_response_due(
    hours_config: Mapping[str, Any] | None, channel: Channel, since: datetime
) -> datetime:
    """When the customer waiting since ``since`` on ``channel`` is owed an answer
    by the channel's norm (FIRST_RESPONSE), for where no stored policy applies.

    A calendar that cannot be read counts calendar time: a typo in an inbox's
    hours must never stop a message from being stored.
    """
    target = FIRST_RESPONSE.get(channel, Target(timedelta(hours=4)))
    try:
        hours = parse_hours(hours_config) if target.business else None
        return add_business_time(hours, since, target.within)
    except ValueError:
        return add_business_time(None, since, target.within)
