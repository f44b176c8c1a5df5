"""core.shifts: who is on shift for which channel, and when batched email is due."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from threadline.core.shifts import (
    ScheduleError,
    check_batch_times,
    check_schedule,
    next_batch,
    on_shift,
    schedule_from_text,
    schedule_to_text,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def at(text: str, tz: tzinfo = BERLIN) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def span(days: list[str], start: str, end: str, channels: list[str]) -> dict[str, Any]:
    return {"days": days, "start": start, "end": end, "channels": channels}


WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
# One person on chat and voice in a split shift, email all day.
SPLIT = {
    "timezone": "Europe/Berlin",
    "spans": [
        span(WEEKDAYS, "09:00", "12:00", ["chat", "voice"]),
        span(WEEKDAYS, "13:00", "17:00", ["chat", "voice"]),
        span(WEEKDAYS, "09:00", "17:00", ["email"]),
    ],
}
NIGHT = {"timezone": "Europe/Berlin", "spans": [span(["fri"], "22:00", "06:00", ["chat"])]}
US = {"timezone": "America/New_York", "spans": [span(WEEKDAYS, "09:00", "17:00", ["email"])]}
DST = {"timezone": "Europe/Berlin", "spans": [span(["sun"], "01:00", "04:00", ["chat"])]}
LATE = {"timezone": "Europe/Berlin", "spans": [span(["sat"], "20:00", "24:00", ["chat"])]}

SHIFT_CASES = [
    # (name, schedule, channel, now, on shift?)
    ("no schedule: always on shift", None, "chat", at("2026-11-29 03:00"), True),
    ("in the morning span", SPLIT, "chat", at("2026-11-30 09:00"), True),
    ("the end of a span is outside it", SPLIT, "chat", at("2026-11-30 12:00"), False),
    ("the lunch gap of a split shift", SPLIT, "voice", at("2026-11-30 12:30"), False),
    ("the afternoon span", SPLIT, "voice", at("2026-11-30 16:59"), True),
    ("email is covered over lunch", SPLIT, "email", at("2026-11-30 12:30"), True),
    ("a channel the schedule does not cover", SPLIT, "sms", at("2026-11-30 10:00"), False),
    ("weekend", SPLIT, "email", at("2026-11-29 10:00"), False),
    ("compared in the schedule's zone", SPLIT, "chat", at("2026-11-30 08:30", UTC), True),
    ("before the start in the zone", SPLIT, "chat", at("2026-11-30 07:59", UTC), False),
    ("a night span before midnight", NIGHT, "chat", at("2026-11-27 23:00"), True),
    ("a night span after midnight, the next day", NIGHT, "chat", at("2026-11-28 05:59"), True),
    ("a night span ends in the morning", NIGHT, "chat", at("2026-11-28 06:00"), False),
    ("a night span does not start the day before", NIGHT, "chat", at("2026-11-27 05:00"), False),
    ("a span ending at 24:00 covers 23:59", LATE, "chat", at("2026-11-28 23:59"), True),
    ("a span ending at 24:00 stops at midnight", LATE, "chat", at("2026-11-29 00:00"), False),
    # Spring forward in Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST.
    ("DST spring: 01:30 CET is on", DST, "chat", datetime(2026, 3, 29, 0, 30, tzinfo=UTC), True),
    ("DST spring: 03:30 CEST is on", DST, "chat", datetime(2026, 3, 29, 1, 30, tzinfo=UTC), True),
    ("DST spring: 04:00 CEST is off", DST, "chat", datetime(2026, 3, 29, 2, 0, tzinfo=UTC), False),
    # Fall back, 2026-10-25: 03:00 CEST becomes 02:00 CET; 04:00 CET is 03:00 UTC.
    ("DST fall: 03:30 CET is on", DST, "chat", datetime(2026, 10, 25, 2, 30, tzinfo=UTC), True),
    ("DST fall: 04:00 CET is off", DST, "chat", datetime(2026, 10, 25, 3, 0, tzinfo=UTC), False),
    ("New York 09:00 EST is 14:00 UTC", US, "email", at("2026-11-30 14:00", UTC), True),
    ("New York 08:59 EST is off", US, "email", at("2026-11-30 13:59", UTC), False),
]


@pytest.mark.parametrize(
    ("raw", "channel", "now", "expected"),
    [pytest.param(r, c, n, e, id=name) for name, r, c, n, e in SHIFT_CASES],
)
def test_on_shift(raw: Any, channel: str, now: datetime, expected: bool) -> None:
    assert on_shift(check_schedule(raw), channel, now) is expected


def test_an_empty_span_list_is_never_on_shift() -> None:
    schedule = check_schedule({"timezone": "UTC", "spans": []})
    assert on_shift(schedule, "email", at("2026-11-30 10:00")) is False


INVALID = [
    ("not an object", ["mon"], "a schedule is an object with a timezone and spans"),
    ("unknown field", {"spans": [], "shift": 1}, "unknown schedule field: shift"),
    ("unknown zone", {"timezone": "Mars/Olympus", "spans": []}, "unknown time zone"),
    ("spans not a list", {"spans": "mon"}, "spans must be a list of at most 50"),
    ("too many spans", {"spans": [span(["mon"], "09:00", "10:00", ["chat"])] * 51}, "at most 50"),
    ("a span not an object", {"spans": ["mon 9-5"]}, "span 1 must be an object"),
    ("unknown day", {"spans": [span(["mo"], "09:00", "10:00", ["chat"])]}, "span 1: unknown days"),
    ("no days", {"spans": [span([], "09:00", "10:00", ["chat"])]}, "span 1: a span needs a list"),
    (
        "unknown channel",
        {"spans": [span(["mon"], "09:00", "10:00", ["fax"])]},
        "span 1: unknown channels: fax",
    ),
    ("bad time", {"spans": [span(["mon"], "9am", "10:00", ["chat"])]}, "not an HH:MM time"),
    ("minutes past 59", {"spans": [span(["mon"], "09:60", "10:00", ["chat"])]}, "not a time"),
    ("a start at 24:00", {"spans": [span(["mon"], "24:00", "10:00", ["chat"])]}, "not a time"),
    ("start equals end", {"spans": [span(["mon"], "09:00", "09:00", ["chat"])]}, "the same time"),
    (
        "the second span is named",
        {"spans": [span(["mon"], "09:00", "10:00", ["chat"]), span(["x"], "1", "2", ["chat"])]},
        "span 2:",
    ),
]


@pytest.mark.parametrize(("raw", "message"), [pytest.param(r, m, id=n) for n, r, m in INVALID])
def test_a_bad_schedule_says_what_is_wrong(raw: Any, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        check_schedule(raw)


BATCH_CASES = [
    # (name, times, zone, now, due)
    ("no batching: due now", None, "UTC", at("2026-11-30 10:17"), at("2026-11-30 10:17")),
    (
        "the next time today",
        ["09:00", "13:00"],
        "Europe/Berlin",
        at("2026-11-30 10:17"),
        at("2026-11-30 13:00"),
    ),
    (
        "exactly on a batch time",
        ["09:00", "13:00"],
        "Europe/Berlin",
        at("2026-11-30 13:00"),
        at("2026-11-30 13:00"),
    ),
    (
        "after the last: tomorrow's first",
        ["13:00", "09:00"],
        "Europe/Berlin",
        at("2026-11-30 17:00"),
        at("2026-12-01 09:00"),
    ),
    ("across midnight", ["00:30"], "Europe/Berlin", at("2026-11-30 23:50"), at("2026-12-01 00:30")),
    (
        "in the inbox's zone",
        ["09:00"],
        "America/New_York",
        at("2026-11-30 13:00", UTC),
        at("2026-11-30 14:00", UTC),
    ),
    (
        "DST spring: a skipped 02:30 lands after the jump",
        ["02:30"],
        "Europe/Berlin",
        datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
    ),
    (
        "DST fall: 09:00 keeps its wall time",
        ["09:00"],
        "Europe/Berlin",
        datetime(2026, 10, 24, 12, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 8, 0, tzinfo=UTC),
    ),
]


@pytest.mark.parametrize(
    ("times", "zone", "now", "due"),
    [pytest.param(t, z, n, d, id=name) for name, t, z, n, d in BATCH_CASES],
)
def test_next_batch(times: Any, zone: str, now: datetime, due: datetime) -> None:
    assert next_batch(check_batch_times(times, zone), now) == due


@pytest.mark.parametrize(
    ("times", "zone", "message"),
    [
        pytest.param("09:00", "UTC", "a list of at most 24", id="not a list"),
        pytest.param(["09:00"] * 25, "UTC", "a list of at most 24", id="too many"),
        pytest.param(["25:00"], "UTC", "not a time of day", id="not a time"),
        pytest.param(["24:00"], "UTC", "not a time of day", id="midnight is 00:00"),
        pytest.param(["09:00"], "Nowhere/City", "unknown time zone", id="zone"),
    ],
)
def test_bad_batch_times_say_what_is_wrong(times: Any, zone: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        check_batch_times(times, zone)


def test_the_settings_lines_become_a_schedule_and_back() -> None:
    text = "mon-fri 09:00-12:00 chat voice\n\nfri-mon 22:00-06:00 email,sms\nsat 10:00-14:00 chat"
    raw = schedule_from_text(text, "Europe/Berlin")
    assert raw == {
        "timezone": "Europe/Berlin",
        "spans": [
            span(WEEKDAYS, "09:00", "12:00", ["chat", "voice"]),
            span(["fri", "sat", "sun", "mon"], "22:00", "06:00", ["email", "sms"]),
            span(["sat"], "10:00", "14:00", ["chat"]),
        ],
    }
    assert check_schedule(raw) is not None
    assert schedule_from_text(schedule_to_text(raw), "Europe/Berlin") == raw


def test_no_lines_is_no_schedule() -> None:
    assert schedule_from_text(" \n", "UTC") is None
    assert schedule_to_text(None) == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "mon-fri 09:00-17:00", "line 1: write days, hours and channels", id="no channel"
        ),
        pytest.param("mon-fri 9-17 chat\nx", "line 2: write days", id="second line"),
        pytest.param("monday 09:00-17:00 chat", "line 1: not a day", id="day"),
        pytest.param("mon-xyz 09:00-17:00 chat", "line 1: not a day", id="range"),
        pytest.param("x" * 5001, "at most 5000 characters", id="too long"),
    ],
)
def test_bad_settings_lines_say_which_line(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        schedule_from_text(text, "UTC")
