"""What we promise a customer, in plain words: how fast, in which hours, and when now.

Pure: an inbox's calendar (core/hours.py), a stored first-response target
(core/sla.py) and the time come in; sentences come out. The contact page, the
chat widget's header and the off-hours acknowledgement all say it with these
words, so a customer reads the same promise wherever they meet it:

- the target: "within a minute", "within 4 business hours", "within a day";
- the hours: "Mon–Fri 9:00–17:00 CET", "Mon–Fri 9:00–12:00, 13:00–17:00 UTC", "24/7";
- open now, or when it opens: "Open now", "Opens Monday 9:00";
- when an answer can be expected if one writes now: the due time of the target
  from now in the calendar (core.sla.due_at), "within a minute" when nothing
  closed lies in between, else "by tomorrow at 12:00" or "soon after we open,
  Monday 9:00".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from threadline.core.hours import Hours, Span, open_at, opening_after
from threadline.core.sla import Target, due_at

__all__ = [
    "Promise",
    "describe_hours",
    "describe_target",
    "describe_when",
    "promise",
    "sentence",
]

_DAY = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WHOLE_DAY: tuple[Span, ...] = ((timedelta(0), timedelta(days=1)),)
# A due time this close after the opening is "soon after we open": "by Monday 9:01"
# for a one-minute chat target would promise a minute nobody can read off a clock.
_SOON_AFTER_OPENING = timedelta(minutes=15)
_MINUTE, _HOUR, _DAY_LENGTH = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Promise:
    target: str  # "within 4 business hours"
    hours: str  # "Mon–Fri 9:00–17:00 CET"
    open_now: bool
    opens: str  # "Open now", "Opens Monday 9:00", "Closed"
    expected: str  # "within a minute", "by tomorrow at 12:00", "soon after we open, Monday 9:00"


def describe_when(when: datetime, now: datetime, *, spoken: bool = False) -> str:
    """'today at 13:00', 'tomorrow at 9:00', 'Monday 9:00', 'Monday 5 Jan 9:00'; or
    ``spoken``, as a caller hears it: 'on Monday at 9:00', 'on Monday, 5 January at 9:00'."""
    today = now.astimezone(when.tzinfo).date()
    at = f"{when.hour}:{when.minute:02d}"
    days = (when.date() - today).days
    if days <= 0:
        return f"today at {at}"
    if days == 1:
        return f"tomorrow at {at}"
    day = _DAYS[when.weekday()]
    if spoken:
        date = f", {when.day} {_MONTH_NAMES[when.month - 1]}" if days >= 7 else ""
        return f"on {day}{date} at {at}"
    if days < 7:
        return f"{day} {at}"
    return f"{day} {when.day} {_MONTHS[when.month - 1]} {at}"


def _count(n: int, one: str, many: str) -> str:
    return one if n == 1 else f"{n} {many}"


def describe_target(target: Target, calendar: Hours | None = None) -> str:
    """'within a minute', 'within 15 minutes', 'within 4 business hours', 'within 2 days'.

    "business" is said only of an hour or more on a calendar: a minute is a
    minute, and without a calendar business time is the wall clock.
    """
    within = target.within
    business = target.business and calendar is not None
    if within <= _MINUTE:
        return "within a minute"
    if within < _HOUR or (within < 3 * _HOUR and within % _HOUR):
        return f"within {round(within / _MINUTE)} minutes"
    if business:
        hours = round(within / _HOUR)
        return "within " + _count(hours, "a business hour", "business hours")
    if within >= _DAY_LENGTH and not within % _DAY_LENGTH:
        return "within " + _count(within // _DAY_LENGTH, "a day", "days")
    return "within " + _count(round(within / _HOUR), "an hour", "hours")


def _clock(at: timedelta) -> str:
    minutes = int(at.total_seconds()) // 60
    return f"{minutes // 60}:{minutes % 60:02d}"


def _spans_text(spans: tuple[Span, ...]) -> str:
    if spans == _WHOLE_DAY:
        return "all day"
    return ", ".join(f"{_clock(a)}–{_clock(b)}" for a, b in spans)


def _days_text(days: list[int]) -> str:
    """Runs of three or more days as a range: [0, 1, 2, 3, 4, 6] → 'Mon–Fri, Sun'."""
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{_DAY[run[0]]}–{_DAY[run[-1]]}")
        else:
            parts.extend(_DAY[d] for d in run)
    return ", ".join(parts)


def _zone(calendar: Hours, now: datetime) -> str:
    """The zone as people write it at ``now`` (CET in winter, CEST in summer); a zone
    whose abbreviation is only an offset ("+03") reads "UTC+03"."""
    name = now.astimezone(calendar.tz).tzname() or calendar.tz.key
    return f"UTC{name}" if name[:1] in "+-" else name


def describe_hours(calendar: Hours | None, now: datetime) -> str:
    """'Mon–Fri 9:00–17:00 CET': days with the same hours grouped, split shifts kept,
    closed days left out; '24/7' with no calendar or one open all week."""
    week = calendar.days if calendar is not None else (_WHOLE_DAY,) * 7
    if all(spans == _WHOLE_DAY for spans in week):
        text = "24/7"
    else:
        groups: dict[tuple[Span, ...], list[int]] = {}
        for day, spans in enumerate(week):
            if spans:
                groups.setdefault(spans, []).append(day)
        if not groups:
            return "closed"
        parts = [f"{_days_text(days)} {_spans_text(spans)}" for spans, days in groups.items()]
        assert calendar is not None  # no calendar is open all week
        text = f"{'; '.join(parts)} {_zone(calendar, now)}"
    if calendar is not None and calendar.country is not None:
        text += ", closed on public holidays"
    return text


def _expected(calendar: Hours | None, target: Target, now: datetime, open_now: bool) -> str:
    try:
        due = due_at(calendar, target, now)
    except ValueError:  # never open within a year: held to the wall clock, as actions/sla.py
        due = due_at(None, target, now)
    assert due is not None  # no pauses
    if due - now <= target.within:
        return describe_target(target, calendar)
    zone = calendar.tz if calendar is not None else UTC
    if not open_now and calendar is not None:
        opening = opening_after(calendar, now)
        if due - opening <= _SOON_AFTER_OPENING:
            return f"soon after we open, {describe_when(opening, now)}"
    return f"by {describe_when(due.astimezone(zone), now)}"


def promise(calendar: Hours | None, target: Target, now: datetime) -> Promise:
    """Everything the customer is told about an inbox at ``now``."""
    open_now = open_at(calendar, now)
    if open_now:
        opens = "Open now"
    else:
        assert calendar is not None
        try:
            opens = f"Opens {describe_when(opening_after(calendar, now), now)}"
        except ValueError:
            opens = "Closed"
    return Promise(
        target=describe_target(target, calendar),
        hours=describe_hours(calendar, now),
        open_now=open_now,
        opens=opens,
        expected=_expected(calendar, target, now, open_now),
    )


def sentence(what: str, said: Promise) -> str:
    """'We answer chat within a minute, Mon–Fri 9:00–17:00 CET.' for ``what`` = 'answer chat'."""
    return f"We {what} {said.target}, {said.hours}."
