"""SLA math as a table of cases: due and warning times across midnight, weekends,
public and custom holidays, DST changes in both directions (Berlin and New York),
split shifts and pauses; then properties that hold for any start and amount."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from threadline.core.hours import Hours, parse_hours
from threadline.core.sla import (
    Kind,
    Pause,
    Target,
    business_between,
    check_target,
    clocks,
    due_at,
    resume,
    subtract_business_time,
    warn_at,
    warn_before,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def calendar(
    tz: str, *, country: str | None = None, sub: str | None = None, **extra: object
) -> Hours:
    config: dict[str, object] = {
        "timezone": tz,
        "days": {d: [["09:00", "17:00"]] for d in WEEKDAYS},
        **extra,
    }
    if country:
        config["country"], config["subdivision"] = country, sub
    hours = parse_hours(config)
    assert hours is not None
    return hours


BY = calendar("Europe/Berlin", country="DE", sub="BY")  # Bavaria: Epiphany is closed
BE = calendar("Europe/Berlin", country="DE", sub="BE")  # Berlin: it is not
NY = calendar("America/New_York", country="US", sub="NY")
CUSTOM = calendar("Europe/Berlin", holidays=["2026-12-24", "2026-12-31"])
SPLIT = parse_hours(
    {
        "timezone": "Europe/Berlin",
        "days": {d: [["08:00", "12:00"], ["14:00", "18:00"]] for d in WEEKDAYS},
    }
)
ROUND_THE_CLOCK = parse_hours(
    {
        "timezone": "Europe/Berlin",
        "days": {d: [["00:00", "24:00"]] for d in (*WEEKDAYS, "sat", "sun")},
    }
)


def berlin(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def new_york(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=NEW_YORK)


def business(hours: float) -> Target:
    return Target(timedelta(hours=hours), business=True)


def wall(hours: float) -> Target:
    return Target(timedelta(hours=hours), business=False)


CASES = [
    # (what, calendar, target, start, due)
    ("inside the day", BY, business(4), berlin("2026-11-30 10:00"), berlin("2026-11-30 14:00")),
    (
        "across midnight, business",
        BY,
        business(1),
        berlin("2026-11-30 16:30"),
        berlin("2026-12-01 09:30"),
    ),
    (
        "across midnight, calendar",
        BY,
        wall(1),
        berlin("2026-11-30 23:30"),
        berlin("2026-12-01 00:30"),
    ),
    ("arriving at night", BY, business(4), berlin("2026-11-30 22:30"), berlin("2026-12-01 13:00")),
    ("over the weekend", BY, business(4), berlin("2026-12-04 16:00"), berlin("2026-12-07 12:00")),
    (
        "a weekend in calendar time",
        BY,
        wall(4),
        berlin("2026-12-05 22:00"),
        berlin("2026-12-06 02:00"),
    ),
    (
        "Epiphany closes Bavaria",
        BY,
        business(2),
        berlin("2026-01-05 16:00"),
        berlin("2026-01-07 10:00"),
    ),
    (
        "Epiphany is a workday in Berlin",
        BE,
        business(2),
        berlin("2026-01-05 16:00"),
        berlin("2026-01-06 10:00"),
    ),
    (
        "Christmas and Boxing Day, then the weekend",
        BY,
        business(2),
        berlin("2026-12-24 16:00"),
        berlin("2026-12-28 10:00"),
    ),
    (
        "custom closed dates",
        CUSTOM,
        business(2),
        berlin("2026-12-23 16:00"),
        berlin("2026-12-25 10:00"),
    ),
    (
        "Thanksgiving in New York",
        NY,
        business(2),
        new_york("2026-11-25 16:00"),
        new_york("2026-11-27 10:00"),
    ),
    (
        "Election Day in New York",
        NY,
        business(2),
        new_york("2026-11-02 16:00"),
        new_york("2026-11-04 10:00"),
    ),
    # DST: business hours are wall-clock hours, so 9-17 stays 9-17 either side
    (
        "Berlin springs forward over the weekend",
        BY,
        business(4),
        berlin("2026-03-27 16:00"),
        berlin("2026-03-30 12:00"),
    ),
    (
        "Berlin falls back over the weekend",
        BY,
        business(4),
        berlin("2026-10-23 16:00"),
        berlin("2026-10-26 12:00"),
    ),
    (
        "New York springs forward over the weekend",
        NY,
        business(4),
        new_york("2026-03-06 16:00"),
        new_york("2026-03-09 12:00"),
    ),
    (
        "New York falls back over the weekend",
        NY,
        business(4),
        new_york("2026-10-30 16:00"),
        new_york("2026-11-02 12:00"),
    ),
    # ...while calendar time is elapsed time: a day over a change is 23 or 25 hours of wall clock
    (
        "Berlin spring, 24 h elapsed",
        BY,
        wall(24),
        berlin("2026-03-28 12:00"),
        berlin("2026-03-29 13:00"),
    ),
    (
        "Berlin autumn, 24 h elapsed",
        BY,
        wall(24),
        berlin("2026-10-24 12:00"),
        berlin("2026-10-25 11:00"),
    ),
    (
        "New York spring, 24 h elapsed",
        NY,
        wall(24),
        new_york("2026-03-07 12:00"),
        new_york("2026-03-08 13:00"),
    ),
    (
        "New York autumn, 24 h elapsed",
        NY,
        wall(24),
        new_york("2026-10-31 12:00"),
        new_york("2026-11-01 11:00"),
    ),
    (
        "open round the clock over the spring gap",
        ROUND_THE_CLOCK,
        business(2),
        berlin("2026-03-29 01:00"),
        berlin("2026-03-29 04:00"),
    ),
    (
        "open round the clock over the repeated hour",
        ROUND_THE_CLOCK,
        business(3),
        berlin("2026-10-25 01:00"),
        datetime(2026, 10, 25, 2, tzinfo=UTC),
    ),
    (
        "split shift skips lunch",
        SPLIT,
        business(2),
        berlin("2026-11-30 11:00"),
        berlin("2026-11-30 15:00"),
    ),
    (
        "split shift into the next morning",
        SPLIT,
        business(3),
        berlin("2026-11-30 16:00"),
        berlin("2026-12-01 09:00"),
    ),
    (
        "arriving in the lunch break",
        SPLIT,
        business(1),
        berlin("2026-11-30 12:30"),
        berlin("2026-11-30 15:00"),
    ),
    (
        "an exact fit ends at closing",
        BY,
        business(4),
        berlin("2026-11-30 13:00"),
        berlin("2026-11-30 17:00"),
    ),
    (
        "always open without a calendar",
        None,
        business(4),
        berlin("2026-11-28 23:00"),
        berlin("2026-11-29 03:00"),
    ),
    (
        "60 seconds of chat",
        BY,
        Target(timedelta(seconds=60)),
        berlin("2026-11-30 16:59:30"),
        berlin("2026-12-01 09:00:30"),
    ),
]


@pytest.mark.parametrize(
    ("hours", "target", "start", "due"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_due_time(hours: Hours | None, target: Target, start: datetime, due: datetime) -> None:
    assert due_at(hours, target, start) == due.astimezone(UTC)


PAUSE_CASES = [
    # (what, calendar, target, start, pauses, due)
    (
        "a pause in open hours adds its length",
        BY,
        business(4),
        berlin("2026-11-30 10:00"),
        [(berlin("2026-11-30 11:00"), berlin("2026-11-30 13:00"))],
        berlin("2026-11-30 16:00"),
    ),
    (
        "a pause at night changes nothing in business time",
        BY,
        business(4),
        berlin("2026-11-30 16:00"),
        [(berlin("2026-11-30 18:00"), berlin("2026-12-01 08:00"))],
        berlin("2026-12-01 12:00"),
    ),
    (
        "a pause at night counts in calendar time",
        BY,
        wall(24),
        berlin("2026-11-30 16:00"),
        [(berlin("2026-11-30 18:00"), berlin("2026-12-01 08:00"))],
        berlin("2026-12-02 06:00"),
    ),
    (
        "a pause over closing pushes into the next day",
        BY,
        business(4),
        berlin("2026-11-30 14:00"),
        [(berlin("2026-11-30 15:00"), berlin("2026-12-01 10:00"))],
        berlin("2026-12-01 13:00"),
    ),
    (
        "overlapping pauses count once",
        BY,
        business(2),
        berlin("2026-11-30 10:00"),
        [
            (berlin("2026-11-30 10:30"), berlin("2026-11-30 11:30")),
            (berlin("2026-11-30 11:00"), berlin("2026-11-30 12:00")),
        ],
        berlin("2026-11-30 13:30"),
    ),
    (
        "a pause before the start is ignored",
        BY,
        business(1),
        berlin("2026-11-30 10:00"),
        [(berlin("2026-11-30 08:00"), berlin("2026-11-30 09:30"))],
        berlin("2026-11-30 11:00"),
    ),
    (
        "a pause after the due time is ignored",
        BY,
        business(1),
        berlin("2026-11-30 10:00"),
        [(berlin("2026-11-30 12:00"), None)],
        berlin("2026-11-30 11:00"),
    ),
    (
        "a pause starting at the due time is ignored",
        BY,
        business(1),
        berlin("2026-11-30 10:00"),
        [(berlin("2026-11-30 11:00"), berlin("2026-11-30 12:00"))],
        berlin("2026-11-30 11:00"),
    ),
    (
        "a pause over the spring DST gap lasts 2 real hours, not 3",
        BY,
        wall(4),
        berlin("2026-03-29 00:00"),
        [(berlin("2026-03-29 01:00"), berlin("2026-03-29 04:00"))],
        berlin("2026-03-29 07:00"),
    ),
    (
        "a pause in a split shift's morning",
        SPLIT,
        business(4),
        berlin("2026-11-30 08:00"),
        [(berlin("2026-11-30 09:00"), berlin("2026-11-30 10:00"))],
        berlin("2026-11-30 15:00"),
    ),
]


@pytest.mark.parametrize(
    ("hours", "target", "start", "pauses", "due"),
    [c[1:] for c in PAUSE_CASES],
    ids=[c[0] for c in PAUSE_CASES],
)
def test_due_time_with_pauses(
    hours: Hours | None, target: Target, start: datetime, pauses: list[Pause], due: datetime
) -> None:
    assert due_at(hours, target, start, pauses) == due.astimezone(UTC)


def test_a_clock_paused_before_its_due_time_has_none_until_it_resumes() -> None:
    start = berlin("2026-11-30 10:00")
    assert due_at(BY, business(4), start, [(berlin("2026-11-30 11:00"), None)]) is None


def test_resuming_counts_what_was_left_from_the_resumption() -> None:
    due = berlin("2026-11-30 14:00")
    # Paused at 11:00 with 3 business hours left; pending over night, back at 16:00 next day.
    resumed = resume(BY, business(4), due, berlin("2026-11-30 11:00"), berlin("2026-12-01 16:00"))
    assert resumed == berlin("2026-12-02 11:00").astimezone(UTC)
    assert resumed == due_at(
        BY,
        business(4),
        berlin("2026-11-30 10:00"),
        [(berlin("2026-11-30 11:00"), berlin("2026-12-01 16:00"))],
    )
    # Already breached when paused: the breach stands.
    late = resume(BY, business(4), due, berlin("2026-11-30 15:00"), berlin("2026-12-01 16:00"))
    assert late == due.astimezone(UTC)


def test_the_warning_comes_when_its_share_of_the_target_has_elapsed() -> None:
    target = Target(timedelta(hours=4), business=True, warn_percent=75)
    start = berlin("2026-12-04 15:00")  # a Friday: 2 h today, 2 h on Monday
    assert warn_at(BY, target, start) == berlin("2026-12-07 10:00").astimezone(UTC)
    due = due_at(BY, target, start)
    assert due == berlin("2026-12-07 11:00").astimezone(UTC)
    assert warn_before(BY, target, due) == warn_at(BY, target, start)
    # At 100 % the warning is the due time.
    full = Target(timedelta(hours=4), business=True, warn_percent=100)
    assert warn_at(BY, full, start) == due


def test_clocks_now_say_running_warning_breached_or_paused() -> None:
    targets = {
        Kind.FIRST_RESPONSE: Target(timedelta(hours=2), business=True, warn_percent=50),
        Kind.RESOLUTION: Target(timedelta(hours=24), business=False),
    }
    dues = {
        Kind.FIRST_RESPONSE: berlin("2026-11-30 12:00"),
        Kind.RESOLUTION: berlin("2026-12-01 10:00"),
        Kind.NEXT_RESPONSE: None,
    }
    at_1030 = {c.kind: c for c in clocks(BY, targets, dues, None, berlin("2026-11-30 10:30"))}
    assert set(at_1030) == {Kind.FIRST_RESPONSE, Kind.RESOLUTION}
    assert at_1030[Kind.FIRST_RESPONSE].state == "running"
    assert at_1030[Kind.FIRST_RESPONSE].left == timedelta(hours=1, minutes=30)
    assert at_1030[Kind.FIRST_RESPONSE].warn_at == berlin("2026-11-30 11:00").astimezone(UTC)
    at_1130 = {c.kind: c for c in clocks(BY, targets, dues, None, berlin("2026-11-30 11:30"))}
    assert at_1130[Kind.FIRST_RESPONSE].state == "warning"
    at_1300 = {c.kind: c for c in clocks(BY, targets, dues, None, berlin("2026-11-30 13:00"))}
    assert at_1300[Kind.FIRST_RESPONSE].state == "breached"
    assert at_1300[Kind.FIRST_RESPONSE].left == timedelta(0)
    paused = {
        c.kind: c
        for c in clocks(BY, targets, dues, berlin("2026-11-30 11:00"), berlin("2026-11-30 15:00"))
    }
    assert paused[Kind.FIRST_RESPONSE].state == "paused"
    assert paused[Kind.FIRST_RESPONSE].left == timedelta(hours=1)
    assert paused[Kind.RESOLUTION].left == timedelta(hours=23)


@pytest.mark.parametrize(
    ("seconds", "business_flag", "warn", "message"),
    [
        (0, True, 80, "between 1 second"),
        (31 * 86400, True, 80, "between 1 second"),
        (1.5, True, 80, "whole number of seconds"),
        (True, True, 80, "whole number of seconds"),
        (60, "yes", 80, "true or false"),
        (60, True, 0, "between 1 and 100"),
        (60, True, 101, "between 1 and 100"),
    ],
)
def test_a_target_out_of_bounds_is_refused(
    seconds: object, business_flag: object, warn: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_target(seconds, business_flag, warn)


def test_naive_times_and_backward_pauses_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        due_at(BY, business(1), datetime(2026, 1, 1))
    start = berlin("2026-11-30 10:00")
    with pytest.raises(ValueError, match="ends before it begins"):
        due_at(BY, business(1), start, [(berlin("2026-11-30 11:00"), berlin("2026-11-30 10:30"))])


# -- properties ---------------------------------------------------------------------
CALENDARS = st.sampled_from([None, BY, NY, SPLIT, CUSTOM, ROUND_THE_CLOCK])
STARTS = st.datetimes(
    min_value=datetime(2026, 1, 1),
    max_value=datetime(2027, 12, 31),
    timezones=st.just(UTC),
)
AMOUNTS = st.integers(min_value=1, max_value=72 * 3600)


@st.composite
def pauses(draw: st.DrawFn, start: datetime) -> list[Pause]:
    out: list[Pause] = []
    for _ in range(draw(st.integers(0, 3))):
        begin = start + timedelta(seconds=draw(st.integers(-3600, 96 * 3600)))
        out.append((begin, begin + timedelta(seconds=draw(st.integers(0, 48 * 3600)))))
    return out


@settings(max_examples=150, deadline=None)
@given(hours=CALENDARS, start=STARTS, a=AMOUNTS, b=AMOUNTS)
def test_a_longer_target_is_never_due_earlier(
    hours: Hours | None, start: datetime, a: int, b: int
) -> None:
    short, long = sorted((a, b))
    earlier = due_at(hours, Target(timedelta(seconds=short)), start)
    later = due_at(hours, Target(timedelta(seconds=long)), start)
    assert earlier is not None
    assert later is not None
    assert earlier <= later


@settings(max_examples=150, deadline=None)
@given(hours=CALENDARS, start=STARTS, seconds=AMOUNTS)
def test_business_time_is_never_due_before_calendar_time(
    hours: Hours | None, start: datetime, seconds: int
) -> None:
    within = timedelta(seconds=seconds)
    in_business = due_at(hours, Target(within, business=True), start)
    in_calendar = due_at(hours, Target(within, business=False), start)
    assert in_business is not None
    assert in_calendar is not None
    assert in_business >= in_calendar
    # ...and exactly the target's worth of open time lies between start and due.
    assert business_between(hours, start, in_business) == within
    back = subtract_business_time(hours, in_business, within)
    assert back >= start
    assert business_between(hours, back, in_business) == within


@settings(max_examples=150, deadline=None)
@given(hours=CALENDARS, start=STARTS, seconds=AMOUNTS, data=st.data())
def test_pausing_never_makes_a_due_time_earlier(
    hours: Hours | None, start: datetime, seconds: int, data: st.DataObject
) -> None:
    target = Target(timedelta(seconds=seconds), business=data.draw(st.booleans()))
    paused = data.draw(pauses(start))
    plain = due_at(hours, target, start)
    with_pauses = due_at(hours, target, start, paused)
    assert plain is not None
    assert with_pauses is not None
    assert with_pauses >= plain
    warning = warn_at(hours, target, start, paused)
    assert warning is not None
    assert warning <= with_pauses
