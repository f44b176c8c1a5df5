"""core.promise: the promise in plain words, as the contact page, the widget and the
off-hours reply say it. Tables of cases on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.support.hours import HOURS, berlin

from threadline.core.hours import parse_hours
from threadline.core.promise import describe_hours, describe_target, promise, sentence
from threadline.core.sla import Target

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
CHAT = Target(timedelta(seconds=60))
EMAIL = Target(timedelta(hours=4))
SPLIT = {
    "timezone": "UTC",
    "days": {
        **{d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in WEEKDAYS},
        "sat": [["10:00", "14:00"]],
    },
}
HOLIDAY = {**HOURS, "holidays": ["2026-12-25"]}
PUBLIC = {**HOURS, "country": "DE"}
MON_WED_FRI = {"timezone": "UTC", "days": {d: [["09:00", "17:00"]] for d in ("mon", "wed", "fri")}}


@pytest.mark.parametrize(
    ("target", "calendar", "words"),
    [
        (Target(timedelta(seconds=60)), HOURS, "within a minute"),
        (Target(timedelta(seconds=30)), HOURS, "within a minute"),
        (Target(timedelta(minutes=5)), HOURS, "within 5 minutes"),
        (Target(timedelta(minutes=90)), HOURS, "within 90 minutes"),
        (Target(timedelta(hours=1)), HOURS, "within a business hour"),
        (Target(timedelta(hours=4)), HOURS, "within 4 business hours"),
        (Target(timedelta(hours=4)), None, "within 4 hours"),  # no calendar: wall clock
        (Target(timedelta(hours=2), business=False), HOURS, "within 2 hours"),
        (Target(timedelta(hours=1), business=False), HOURS, "within an hour"),
        (Target(timedelta(hours=24), business=False), HOURS, "within a day"),
        (Target(timedelta(hours=48), business=False), HOURS, "within 2 days"),
    ],
)
def test_targets_read_as_people_say_them(
    target: Target, calendar: dict[str, Any] | None, words: str
) -> None:
    assert describe_target(target, parse_hours(calendar)) == words


WINTER = berlin("2026-12-02 10:00")
SUMMER = berlin("2026-07-01 10:00")


@pytest.mark.parametrize(
    ("calendar", "now", "words"),
    [
        (None, WINTER, "24/7"),
        ({"timezone": "UTC"}, WINTER, "24/7"),  # no days given: open all week
        (HOURS, WINTER, "Mon–Fri 9:00–17:00 CET"),
        (HOURS, SUMMER, "Mon–Fri 9:00–17:00 CEST"),  # the zone's name follows DST
        (SPLIT, WINTER, "Mon–Fri 9:00–12:00, 13:00–17:00; Sat 10:00–14:00 UTC"),
        (MON_WED_FRI, WINTER, "Mon, Wed, Fri 9:00–17:00 UTC"),
        (
            {"timezone": "UTC", "days": {"sat": [["10:00", "14:00"]], "sun": [["10:00", "14:00"]]}},
            WINTER,
            "Sat, Sun 10:00–14:00 UTC",
        ),
        ({**HOURS, "timezone": "America/New_York"}, WINTER, "Mon–Fri 9:00–17:00 EST"),
        ({**HOURS, "timezone": "America/New_York"}, SUMMER, "Mon–Fri 9:00–17:00 EDT"),
        ({**HOURS, "timezone": "Asia/Dubai"}, WINTER, "Mon–Fri 9:00–17:00 UTC+04"),
        (PUBLIC, WINTER, "Mon–Fri 9:00–17:00 CET, closed on public holidays"),
        ({"timezone": "UTC", "days": {}}, WINTER, "closed"),
    ],
)
def test_hours_are_grouped_and_named_in_the_zone_of_the_moment(
    calendar: dict[str, Any] | None, now: datetime, words: str
) -> None:
    assert describe_hours(parse_hours(calendar), now) == words


@pytest.mark.parametrize(
    ("calendar", "target", "now", "open_now", "opens", "expected"),
    [
        # open, and the target fits before closing
        (HOURS, EMAIL, berlin("2026-12-01 10:00"), True, "Open now", "within 4 business hours"),
        # open, but the target runs over the weekend
        (HOURS, EMAIL, berlin("2026-12-04 16:00"), True, "Open now", "by Monday 12:00"),
        # open late on a Monday: the rest is owed tomorrow
        (HOURS, EMAIL, berlin("2026-11-30 16:30"), True, "Open now", "by tomorrow at 12:30"),
        # closed on Saturday: a chat is answered when we open
        (
            HOURS,
            CHAT,
            berlin("2026-12-05 10:00"),
            False,
            "Opens Monday 9:00",
            "soon after we open, Monday 9:00",
        ),
        # closed in the evening: email due tomorrow
        (
            HOURS,
            EMAIL,
            berlin("2026-12-01 20:00"),
            False,
            "Opens tomorrow at 9:00",
            "by tomorrow at 13:00",
        ),
        # a custom holiday (Friday 25 Dec) pushes the opening to Monday
        (
            HOLIDAY,
            CHAT,
            berlin("2026-12-24 18:00"),
            False,
            "Opens Monday 9:00",
            "soon after we open, Monday 9:00",
        ),
        # Germany's public holidays: 1 Jan is a Friday, so 4 Jan
        (
            PUBLIC,
            EMAIL,
            berlin("2026-12-31 18:00"),
            False,
            "Opens Monday 9:00",
            "by Monday 13:00",
        ),
        # a split shift's lunch break
        (
            SPLIT,
            CHAT,
            datetime(2026, 11, 30, 12, 30, tzinfo=UTC),
            False,
            "Opens today at 13:00",
            "soon after we open, today at 13:00",
        ),
        # a wall-clock target is the same at any hour
        (
            HOURS,
            Target(timedelta(hours=24), business=False),
            berlin("2026-12-05 10:00"),
            False,
            "Opens Monday 9:00",
            "within a day",
        ),
        # no calendar: always open
        (None, EMAIL, berlin("2026-12-05 03:00"), True, "Open now", "within 4 hours"),
        # never open: the target on the wall clock, and no opening to name
        ({"timezone": "UTC", "days": {}}, CHAT, WINTER, False, "Closed", "within a minute"),
        # across the spring DST change, 9:00 stays 9:00
        (
            HOURS,
            EMAIL,
            berlin("2026-03-28 12:00"),
            False,
            "Opens Monday 9:00",
            "by Monday 13:00",
        ),
    ],
)
def test_what_a_customer_writing_now_can_expect(
    calendar: dict[str, Any] | None,
    target: Target,
    now: datetime,
    open_now: bool,
    opens: str,
    expected: str,
) -> None:
    said = promise(parse_hours(calendar), target, now)
    assert (said.open_now, said.opens, said.expected) == (open_now, opens, expected)


def test_the_sentence_joins_the_channel_the_target_and_the_hours() -> None:
    said = promise(parse_hours(HOURS), CHAT, WINTER)
    assert (
        sentence("answer chat", said) == "We answer chat within a minute, Mon–Fri 9:00–17:00 CET."
    )
    assert sentence("answer email", promise(None, EMAIL, WINTER)) == (
        "We answer email within 4 hours, 24/7."
    )
