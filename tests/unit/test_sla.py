"""Response targets in business time: a table of cases across nights, weekends,
holidays, split shifts and DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from threadline.core.hours import parse_hours
from threadline.core.model import Channel
from threadline.core.sla import add_business_time, first_response_due

BERLIN = ZoneInfo("Europe/Berlin")
NINE_TO_FIVE = {
    "timezone": "Europe/Berlin",
    "days": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-12-25"],
}
SPLIT = {"timezone": "Europe/Berlin", "days": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("calendar", "start", "amount", "due"),
    [
        # inside the day
        (NINE_TO_FIVE, "2026-11-30 10:00", timedelta(hours=4), "2026-11-30 14:00"),
        # across the evening: 1 h on Monday, 3 h on Tuesday
        (NINE_TO_FIVE, "2026-11-30 16:00", timedelta(hours=4), "2026-12-01 12:00"),
        # arriving at night counts from the next opening
        (NINE_TO_FIVE, "2026-11-30 22:30", timedelta(hours=4), "2026-12-01 13:00"),
        # Friday afternoon to Monday, over the weekend
        (NINE_TO_FIVE, "2026-12-04 16:00", timedelta(hours=4), "2026-12-07 12:00"),
        # Thursday 24 Dec 16:00: 1 h that day; Friday the 25th is a holiday, then the weekend
        (NINE_TO_FIVE, "2026-12-24 16:00", timedelta(hours=2), "2026-12-28 10:00"),
        # the lunch break of a split shift is not counted
        (SPLIT, "2026-11-30 11:00", timedelta(hours=2), "2026-11-30 14:00"),
        # an exact fit ends at closing time
        (NINE_TO_FIVE, "2026-11-30 13:00", timedelta(hours=4), "2026-11-30 17:00"),
        # no calendar: always open
        (None, "2026-11-28 23:00", timedelta(hours=4), "2026-11-29 03:00"),
    ],
)
def test_business_time_is_added_over_open_hours_only(
    calendar: dict[str, object] | None, start: str, amount: timedelta, due: str
) -> None:
    hours = parse_hours(calendar)
    assert add_business_time(hours, at(start), amount) == at(due).astimezone(UTC)


def test_a_dst_change_inside_an_open_span_counts_the_hours_that_really_pass() -> None:
    # Round the clock on Sunday 29 March 2026, when Berlin skips 02:00-03:00.
    hours = parse_hours({"timezone": "Europe/Berlin", "days": {"sun": [["00:00", "24:00"]]}})
    start = at("2026-03-29 01:00")
    due = add_business_time(hours, start, timedelta(hours=2))
    assert due == start.astimezone(UTC) + timedelta(hours=2)
    assert due.astimezone(BERLIN).hour == 4  # wall clock jumped an hour


def test_first_response_targets_differ_by_channel() -> None:
    monday_ten = at("2026-11-30 10:00")
    assert first_response_due(NINE_TO_FIVE, Channel.CHAT, monday_ten) == at(
        "2026-11-30 10:01"
    ).astimezone(UTC)
    assert first_response_due(NINE_TO_FIVE, Channel.EMAIL, monday_ten) == at(
        "2026-11-30 14:00"
    ).astimezone(UTC)
    assert first_response_due(NINE_TO_FIVE, Channel.SMS, monday_ten) == at(
        "2026-11-30 10:15"
    ).astimezone(UTC)


def test_an_unreadable_calendar_counts_calendar_time_rather_than_failing() -> None:
    start = at("2026-11-30 22:00")
    due = first_response_due({"timezone": "Mars/Olympus"}, Channel.EMAIL, start)
    assert due == start.astimezone(UTC) + timedelta(hours=4)


def test_a_calendar_that_never_opens_is_refused_and_a_naive_time_too() -> None:
    never = parse_hours({"timezone": "UTC", "days": {}})
    with pytest.raises(ValueError, match="no open hours"):
        add_business_time(never, datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=1))
    with pytest.raises(ValueError, match="naive"):
        add_business_time(None, datetime(2026, 1, 1), timedelta(hours=1))
