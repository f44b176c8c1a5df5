"""Shifts and email batches: who covers which channel when, and when email is handed out.

Pure. An agent's schedule is ``{"timezone": "Europe/Berlin", "spans": [{"days":
["mon", "tue"], "start": "09:00", "end": "13:00", "channels": ["chat", "voice"]},
…]}``. Times are wall-clock times in the schedule's zone, so 09:00 stays 09:00
across a DST change. A span whose end is not after its start runs past midnight
into the next day ("22:00"-"06:00" on mon covers Monday night to Tuesday
morning). No schedule at all means always on shift: a desk that never set up
shifts must not stop assigning.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from threadline.core.hours import DAYS
from threadline.core.model import Channel

__all__ = [
    "MAX_BATCH_TIMES",
    "MAX_SPANS",
    "BatchTimes",
    "Schedule",
    "ScheduleError",
    "ShiftSpan",
    "check_batch_times",
    "check_schedule",
    "next_batch",
    "on_shift",
    "schedule_from_text",
    "schedule_to_text",
]

MAX_SPANS = 50
MAX_BATCH_TIMES = 24
_CHANNELS = frozenset(c.value for c in Channel)


class ScheduleError(ValueError):
    """A schedule or batch times that cannot be read; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class ShiftSpan:
    days: frozenset[int]  # date.weekday(): Monday = 0
    start: timedelta  # since midnight, wall clock
    end: timedelta  # after start, up to two days (past midnight)
    channels: frozenset[str]


@dataclass(frozen=True, slots=True)
class Schedule:
    tz: ZoneInfo
    spans: tuple[ShiftSpan, ...]


@dataclass(frozen=True, slots=True)
class BatchTimes:
    tz: ZoneInfo
    times: tuple[timedelta, ...]  # since midnight, sorted, distinct


def _zone(raw: Any) -> ZoneInfo:
    name = str(raw or "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ScheduleError(f"unknown time zone: {name[:64]!r}") from exc


def _clock(raw: Any, *, allow_24: bool) -> timedelta:
    hours, sep, minutes = str(raw)[:8].partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ScheduleError(f"not an HH:MM time: {str(raw)[:16]!r}")
    at = timedelta(hours=int(hours), minutes=int(minutes))
    if int(minutes) > 59 or at > timedelta(days=1) or (at == timedelta(days=1) and not allow_24):
        raise ScheduleError(f"not a time of day: {str(raw)[:16]!r}")
    return at


def _names(raw: Any, allowed: Iterable[str], what: str) -> list[str]:
    if not isinstance(raw, list) or not raw or len(raw) > 16:
        raise ScheduleError(f"a span needs a list of 1 to 16 {what}")
    allowed = tuple(allowed)
    names = [str(v).lower()[:32] for v in raw]
    unknown = sorted({n for n in names if n not in allowed})
    if unknown:
        raise ScheduleError(f"unknown {what}: {', '.join(unknown)} (use {', '.join(allowed)})")
    return names


def _span(raw: Any, number: int) -> ShiftSpan:
    if not isinstance(raw, Mapping):
        raise ScheduleError(f"span {number} must be an object with days, start, end, channels")
    try:
        days = frozenset(DAYS.index(d) for d in _names(raw.get("days"), DAYS, "days"))
        channels = frozenset(_names(raw.get("channels"), sorted(_CHANNELS), "channels"))
        start = _clock(raw.get("start"), allow_24=False)
        end = _clock(raw.get("end"), allow_24=True)
    except ScheduleError as exc:
        raise ScheduleError(f"span {number}: {exc}") from None
    if end == start:
        raise ScheduleError(f"span {number}: start and end are the same time")
    if end < start:
        end += timedelta(days=1)  # runs past midnight
    return ShiftSpan(days, start, end, channels)


def check_schedule(raw: Any) -> Schedule | None:
    """The schedule in ``raw``; None (no schedule: always on shift) for None or {}.

    Raises ScheduleError naming the span and the field at fault.
    """
    if raw is None or raw == {}:
        return None
    if not isinstance(raw, Mapping):
        raise ScheduleError("a schedule is an object with a timezone and spans")
    unknown = sorted(set(raw) - {"timezone", "spans"})
    if unknown:
        raise ScheduleError(f"unknown schedule field: {', '.join(map(str, unknown))[:100]}")
    spans = raw.get("spans")
    if not isinstance(spans, list) or len(spans) > MAX_SPANS:
        raise ScheduleError(f"spans must be a list of at most {MAX_SPANS}")
    return Schedule(_zone(raw.get("timezone")), tuple(_span(s, i + 1) for i, s in enumerate(spans)))


def _wall(schedule_tz: ZoneInfo, now: datetime) -> tuple[int, timedelta]:
    local = now.astimezone(schedule_tz)
    return local.weekday(), timedelta(hours=local.hour, minutes=local.minute, seconds=local.second)


def on_shift(schedule: Schedule | None, channel: str, now: datetime) -> bool:
    """Whether the schedule covers ``channel`` at ``now`` (always, without a schedule).

    Compared on the wall clock: a span started yesterday that runs past midnight
    counts as yesterday's plus a day.
    """
    if schedule is None:
        return True
    day, at = _wall(schedule.tz, now)
    yesterday = (day - 1) % 7
    for span in schedule.spans:
        if channel not in span.channels:
            continue
        if day in span.days and span.start <= at < span.end:
            return True
        if yesterday in span.days and span.start <= at + timedelta(days=1) < span.end:
            return True
    return False


def check_batch_times(raw: Any, timezone: Any = None) -> BatchTimes | None:
    """Email batch times ("09:00", "13:00") in a zone; None or [] means no batching."""
    if raw is None or raw == []:
        return None
    if not isinstance(raw, list) or len(raw) > MAX_BATCH_TIMES:
        raise ScheduleError(f"batch times are a list of at most {MAX_BATCH_TIMES} HH:MM times")
    times = sorted({_clock(t, allow_24=False) for t in raw})
    return BatchTimes(_zone(timezone), tuple(times))


def _instants(batches: BatchTimes, day: datetime) -> Sequence[datetime]:
    """The batch instants on the local date of ``day``. A time that a DST jump
    skips keeps the offset from before the jump (zoneinfo's fold=0): 02:30 on the
    night Berlin goes from 02:00 to 03:00 is 03:30, never lost."""
    return [
        datetime.combine(
            day.date(), time(int(t.total_seconds()) // 3600, int(t.total_seconds()) % 3600 // 60)
        ).replace(tzinfo=batches.tz)
        for t in batches.times
    ]


def next_batch(batches: BatchTimes | None, now: datetime) -> datetime:
    """When an email that arrives at ``now`` becomes due: ``now`` without batching,
    else the next batch time at or after it (in UTC)."""
    if batches is None or not batches.times:
        return now
    local = now.astimezone(batches.tz)
    for offset in range(3):  # today, tomorrow; a third day steps over a DST-skipped last time
        day = local + timedelta(days=offset)
        for instant in _instants(batches, day):
            if instant >= now:
                return instant.astimezone(UTC)
    raise AssertionError("unreachable: every day has a batch time")


MAX_SHIFT_TEXT = 5000


def _days_text(word: str) -> list[str]:
    """'mon-fri' or 'sat,sun' or 'tue' as day names; a range may wrap ('fri-mon')."""
    out: list[str] = []
    for part in word.split(","):
        first, dash, last = part.partition("-")
        if first not in DAYS or (dash and last not in DAYS):
            raise ScheduleError(f"not a day or a range of days: {part[:20]!r} (use mon-fri)")
        if not dash:
            out.append(first)
            continue
        i, j = DAYS.index(first), DAYS.index(last)
        out.extend(DAYS[(i + k) % 7] for k in range((j - i) % 7 + 1))
    return out


def schedule_from_text(text: str, timezone: str) -> dict[str, Any] | None:
    """The Settings page's lines, one span each, as a schedule to check:
    ``mon-fri 09:00-12:00 chat voice``. No lines: no schedule (always on shift)."""
    if len(text) > MAX_SHIFT_TEXT:
        raise ScheduleError(f"shifts are at most {MAX_SHIFT_TEXT} characters")
    spans = []
    for number, line in enumerate(text.lower().splitlines(), 1):
        if not line.strip():
            continue
        days, times, rest = [*line.split(None, 2), "", ""][:3]
        start, dash, end = times.partition("-")
        channels = rest.replace(",", " ").split()
        if not dash or not channels:
            raise ScheduleError(
                f"line {number}: write days, hours and channels, like mon-fri 09:00-17:00 chat"
            )
        try:
            spans.append(
                {"days": _days_text(days), "start": start, "end": end, "channels": channels}
            )
        except ScheduleError as exc:
            raise ScheduleError(f"line {number}: {exc}") from None
    if not spans:
        return None
    return {"timezone": timezone.strip() or "UTC", "spans": spans}


def schedule_to_text(raw: Mapping[str, Any] | None) -> str:
    """A stored schedule as the Settings page's lines (days listed one by one)."""
    if not raw:
        return ""
    return "\n".join(
        f"{','.join(s['days'])} {s['start']}-{s['end']} {' '.join(s['channels'])}"
        for s in raw.get("spans", [])
    )
