"""Business hours as a table of cases: wall-clock hours in the inbox's time zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from threadline.core.hours import is_open, next_open, parse_hours

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = [["09:00", "17:00"]]
OFFICE: dict[str, Any] = {
    "timezone": "Europe/Berlin",
    "days": {
        "mon": WEEKDAYS,
        "tue": WEEKDAYS,
        "wed": WEEKDAYS,
        "thu": WEEKDAYS,
        "fri": [["09:00", "12:00"], ["13:00", "17:00"]],
        "sat": [],
    },
    "holidays": ["2026-12-25"],
}


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


# (case, config, now, open?, next opening)
CASES = [
    ("no hours: always open", None, datetime(2026, 11, 1, 3, 0, tzinfo=UTC), True, None),
    ("empty hours: always open", {}, datetime(2026, 11, 1, 3, 0, tzinfo=UTC), True, None),
    ("monday morning", OFFICE, berlin(2026, 11, 2, 10, 0), True, None),
    ("opening minute is open", OFFICE, berlin(2026, 11, 2, 9, 0), True, None),
    ("closing minute is closed", OFFICE, berlin(2026, 11, 2, 17, 0), False, berlin(2026, 11, 3, 9)),
    ("before opening", OFFICE, berlin(2026, 11, 2, 8, 59), False, berlin(2026, 11, 2, 9, 0)),
    ("friday lunch break", OFFICE, berlin(2026, 11, 6, 12, 30), False, berlin(2026, 11, 6, 13)),
    ("saturday, empty list", OFFICE, berlin(2026, 11, 7, 11, 0), False, berlin(2026, 11, 9, 9)),
    ("sunday, not listed", OFFICE, berlin(2026, 11, 8, 11, 0), False, berlin(2026, 11, 9, 9)),
    (
        "UTC input is read in Berlin time (08:30 UTC = 09:30 CET)",
        OFFICE,
        datetime(2026, 11, 2, 8, 30, tzinfo=UTC),
        True,
        None,
    ),
    (
        "16:30 UTC is 17:30 in Berlin: closed",
        OFFICE,
        datetime(2026, 11, 2, 16, 30, tzinfo=UTC),
        False,
        berlin(2026, 11, 3, 9, 0),
    ),
    ("holiday (Friday)", OFFICE, berlin(2026, 12, 25, 10, 0), False, berlin(2026, 12, 28, 9, 0)),
    (
        "the evening before a holiday skips it",
        OFFICE,
        berlin(2026, 12, 24, 18, 0),
        False,
        berlin(2026, 12, 28, 9, 0),
    ),
    # 2026-03-29: Berlin springs forward 02:00 CET -> 03:00 CEST.
    (
        "DST spring: 09:00 is 07:00 UTC after the change",
        OFFICE,
        datetime(2026, 3, 30, 7, 0, tzinfo=UTC),
        True,
        None,
    ),
    (
        "DST spring: 08:30 UTC on the Friday before is 09:30 CET",
        OFFICE,
        datetime(2026, 3, 27, 8, 30, tzinfo=UTC),
        True,
        None,
    ),
    (
        "DST spring: closed over the weekend, opens at 07:00 UTC",
        OFFICE,
        datetime(2026, 3, 28, 12, 0, tzinfo=UTC),
        False,
        datetime(2026, 3, 30, 7, 0, tzinfo=UTC),
    ),
    # 2026-10-25: back to CET; Monday 09:00 is 08:00 UTC again.
    (
        "DST autumn: 07:30 UTC is 08:30 CET, not yet open",
        OFFICE,
        datetime(2026, 10, 26, 7, 30, tzinfo=UTC),
        False,
        datetime(2026, 10, 26, 8, 0, tzinfo=UTC),
    ),
    (
        "an opening inside the DST gap moves to the first real instant",
        {"timezone": "Europe/Berlin", "days": {"sun": [["02:30", "04:00"]]}},
        datetime(2026, 3, 28, 12, 0, tzinfo=UTC),
        False,
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # 03:30 CEST
    ),
    (
        "24:00 closes at midnight",
        {"timezone": "UTC", "days": {"mon": [["18:00", "24:00"]]}},
        datetime(2026, 11, 2, 23, 59, tzinfo=UTC),
        True,
        None,
    ),
    (
        "no days given: open every day except holidays",
        {"timezone": "UTC", "holidays": ["2026-11-02"]},
        datetime(2026, 11, 2, 12, 0, tzinfo=UTC),
        False,
        datetime(2026, 11, 3, 0, 0, tzinfo=UTC),
    ),
]


@pytest.mark.parametrize(
    ("config", "now", "expected_open", "opening"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_hours(
    config: dict[str, Any] | None, now: datetime, expected_open: bool, opening: datetime | None
) -> None:
    assert is_open(config, now) is expected_open
    result = next_open(config, now)
    assert result.tzinfo is not None
    assert result == (now if opening is None else opening)
    if config and opening is not None:
        # Answered in the calendar's own zone, ready to be spoken to a caller.
        assert result.utcoffset() == opening.astimezone(ZoneInfo(config["timezone"])).utcoffset()
        assert is_open(config, result)


@pytest.mark.parametrize(
    "config",
    [
        {"timezone": "Mars/Olympus"},
        {"days": {"mon": [["9am", "5pm"]]}},
        {"days": {"mon": [["17:00", "09:00"]]}},
        {"days": {"monday": []}},
        {"days": {"mon": [["09:00", "25:00"]]}},
        {"holidays": ["25.12.2026"]},
    ],
)
def test_unreadable_calendars_are_errors(config: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        parse_hours(config)


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 11, 2, 10, 0)  # naive on purpose
    with pytest.raises(ValueError, match="naive"):
        is_open(OFFICE, naive)
    with pytest.raises(ValueError, match="naive"):
        next_open(None, naive)


def test_a_calendar_that_never_opens_says_so() -> None:
    never = {"timezone": "UTC", "days": {}}
    assert not is_open(never, datetime(2026, 11, 2, tzinfo=UTC))
    with pytest.raises(ValueError, match="no opening"):
        next_open(never, datetime(2026, 11, 2, tzinfo=UTC))


def test_public_holidays_of_the_country_and_subdivision_are_closed() -> None:
    bavaria = {"timezone": "Europe/Berlin", "country": "de", "subdivision": "by"}
    berlin_state = {"timezone": "Europe/Berlin", "country": "DE", "subdivision": "BE"}
    epiphany_noon = datetime(2026, 1, 6, 11, 0, tzinfo=UTC)
    assert not is_open(bavaria, epiphany_noon)
    assert is_open(berlin_state, epiphany_noon)
    assert is_open({"timezone": "Europe/Berlin", "country": "DE"}, epiphany_noon)
    hours = parse_hours(bavaria)
    assert hours is not None
    assert (hours.country, hours.subdivision) == ("DE", "BY")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"country": "XX"}, "unknown country for public holidays: 'XX'"),
        ({"country": "DE", "subdivision": "ZZ"}, "unknown subdivision 'ZZ' of DE; known: BB"),
        ({"subdivision": "BY"}, "a subdivision needs its country"),
        ({"country": 49}, "a country is a code"),
        ({"holidays": ["2026-01-01"] * 1001}, "at most 1000 dates"),
        ({"holidays": "2026-01-01"}, "a list of at most"),
    ],
)
def test_an_unknown_region_is_refused_with_what_is_wrong(
    config: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_hours({"timezone": "UTC", **config})
