"""Business hours: is an inbox open now, and when does it open next.

An inbox config holds ``{"hours": {"timezone": "Europe/Berlin", "days": {"mon":
[["09:00", "17:00"]], …, "sat": []}, "holidays": ["2026-12-25"], "country": "DE",
"subdivision": "BY"}}``: the custom holidays and, with a country (and optionally a
subdivision), its public holidays (core/public_holidays.py) are closed. Hours are
wall-clock times in the inbox's time zone, so "09:00" stays 09:00 across a DST
change. No hours configured means always open: a new inbox must not turn
callers away before anyone has set a calendar.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from threadline.core.public_holidays import check_region, public_holidays

__all__ = ["DAYS", "Hours", "is_open", "next_open", "open_at", "opening_after", "parse_hours"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WHOLE_DAY = ((timedelta(0), timedelta(days=1)),)
# Far enough to step over any run of holidays, near enough to stop on a calendar
# that is never open.
_SEARCH_DAYS = 400
MAX_HOLIDAYS = 1000  # custom closed dates in one calendar
MAX_SPANS = 12  # open spans in one day (split shifts)

Span = tuple[timedelta, timedelta]  # [start, end) as wall-clock time since midnight


@dataclass(frozen=True, slots=True)
class Hours:
    tz: ZoneInfo
    days: tuple[tuple[Span, ...], ...]  # indexed by date.weekday(), Monday = 0
    holidays: frozenset[date]  # the custom closed dates
    country: str | None = None  # public holidays of this country…
    subdivision: str | None = None  # …and this subdivision (state, province)

    def closed_on(self, day: date) -> bool:
        if day in self.holidays:
            return True
        return self.country is not None and day in public_holidays(
            self.country, self.subdivision, day.year
        )

    def spans_on(self, day: date) -> tuple[Span, ...]:
        return () if self.closed_on(day) else self.days[day.weekday()]


def _clock(value: Any) -> timedelta:
    hours, sep, minutes = str(value).partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"not an HH:MM time: {value!r}")
    at = timedelta(hours=int(hours), minutes=int(minutes))
    if int(minutes) > 59 or at > timedelta(days=1):
        raise ValueError(f"not a time of day: {value!r}")
    return at


def _spans(raw: Any, day: str) -> tuple[Span, ...]:
    if not isinstance(raw, list):
        raise ValueError(f"hours for {day} must be a list of [start, end] pairs")
    if len(raw) > MAX_SPANS:
        raise ValueError(f"hours for {day}: at most {MAX_SPANS} spans")
    spans = []
    for pair in raw:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise ValueError(f"hours for {day} must be [start, end] pairs, got {pair!r}")
        start, end = _clock(pair[0]), _clock(pair[1])
        if end <= start:
            raise ValueError(f"{day} {pair[0]}-{pair[1]}: overnight spans are not supported")
        spans.append((start, end))
    return tuple(sorted(spans))


def parse_hours(config: Mapping[str, Any] | None) -> Hours | None:
    """The calendar in an inbox's ``hours`` config; None means always open.

    Raises ValueError for a calendar that cannot be read, so a typo is reported
    where it is made rather than silently meaning "closed".
    """
    if not config:
        return None
    try:
        tz = ZoneInfo(str(config.get("timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone: {config.get('timezone')!r}") from exc
    raw_days = config.get("days")
    if raw_days is None:
        days: tuple[tuple[Span, ...], ...] = (_WHOLE_DAY,) * 7
    elif isinstance(raw_days, Mapping):
        unknown = set(raw_days) - set(DAYS)
        if unknown:
            raise ValueError(f"unknown day names: {', '.join(sorted(unknown))}")
        days = tuple(_spans(raw_days.get(d, []), d) for d in DAYS)
    else:
        raise ValueError("days must map day names (mon…sun) to lists of spans")
    raw_holidays = config.get("holidays") or ()
    if not isinstance(raw_holidays, list | tuple) or len(raw_holidays) > MAX_HOLIDAYS:
        raise ValueError(f"holidays must be a list of at most {MAX_HOLIDAYS} dates")
    try:
        holidays = frozenset(date.fromisoformat(str(d)) for d in raw_holidays)
    except ValueError as exc:
        raise ValueError(f"holidays must be YYYY-MM-DD dates: {exc}") from exc
    country = subdivision = None
    if config.get("country"):
        country, subdivision = check_region(config["country"], config.get("subdivision"))
    elif config.get("subdivision"):
        raise ValueError("a subdivision needs its country")
    return Hours(tz, days, holidays, country, subdivision)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("naive datetime: business hours need an aware one")
    return now


def _since_midnight(local: datetime) -> timedelta:
    return timedelta(
        hours=local.hour, minutes=local.minute, seconds=local.second, microseconds=local.microsecond
    )


def open_at(hours: Hours | None, now: datetime) -> bool:
    """Whether a parsed calendar is open at ``now`` (None: always open)."""
    now = _aware(now)
    if hours is None:
        return True
    local = now.astimezone(hours.tz)
    at = _since_midnight(local)
    return any(start <= at < end for start, end in hours.spans_on(local.date()))


def opening_after(hours: Hours | None, now: datetime) -> datetime:
    """``now`` when a parsed calendar is open, else its next opening, in the
    calendar's time zone. Raises ValueError for no opening in the coming year."""
    now = _aware(now)
    if hours is None:
        return now
    local = now.astimezone(hours.tz)
    if open_at(hours, now):
        return local
    instant = now.astimezone(UTC)
    for offset in range(_SEARCH_DAYS):
        day = local.date() + timedelta(days=offset)
        midnight = datetime(day.year, day.month, day.day, tzinfo=hours.tz)
        for start, _ in hours.spans_on(day):
            # Aware + timedelta is wall-clock arithmetic; the round trip through
            # UTC settles a start that falls in a DST gap (02:30 → 03:30).
            opening = (midnight + start).astimezone(UTC)
            if opening > instant:
                return opening.astimezone(hours.tz)
    raise ValueError(f"the calendar has no opening hours in the next {_SEARCH_DAYS} days")


def is_open(hours_config: Mapping[str, Any] | None, now: datetime) -> bool:
    return open_at(parse_hours(hours_config), now)


def next_open(hours_config: Mapping[str, Any] | None, now: datetime) -> datetime:
    """``now`` when open, else the next opening, in the calendar's time zone.

    Raises ValueError for a calendar with no opening in the coming year.
    """
    return opening_after(parse_hours(hours_config), now)
