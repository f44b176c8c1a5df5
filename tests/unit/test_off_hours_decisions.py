"""core.off_hours: the setting's checks, the text, the closed periods, and the
addresses no automatic reply goes to."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.support.hours import HOURS, berlin

from threadline.core.hours import parse_hours
from threadline.core.off_hours import (
    OffHoursReply,
    check_off_hours,
    closed_period,
    read_off_hours,
    render,
    unanswerable,
)
from threadline.core.promise import promise
from threadline.core.sla import Target

CALENDAR = parse_hours(HOURS)
SATURDAY = berlin("2026-12-05 10:00")


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ({"enabled": "yes"}, "enabled is true or false"),
        ({"help_url": "javascript:alert(1)"}, "http:// or https://"),
        ({"help_url": "ftp://files.acme.test/"}, "http:// or https://"),
        ({"help_url": "https://"}, "http:// or https://"),
        ({"help_url": "https://acme.test/a b"}, "spaces or control"),
        ({"help_url": "https://acme.test/" + "a" * 500}, "at most 500"),
        ({"text": "x" * 1001}, "at most 1000"),
        ({"text": "We answer {expected.__class__}"}, "unknown placeholder"),
        ({"text": "Hours: {hours:>99999}"}, "unknown placeholder"),
        ({"text": "Hi {name}"}, "unknown placeholder {name}"),
        ({"text": "Hi {expected"}, "a brace is not closed"),
        ({"text": "bell\x07"}, "control characters"),
    ],
)
def test_a_setting_that_cannot_be_used_is_refused_with_the_reason(
    raw: dict[str, Any], error: str
) -> None:
    with pytest.raises(ValueError, match=error.replace("{", r"\{").replace("(", r"\(")):
        check_off_hours(raw)


def test_a_good_setting_is_kept_and_braces_can_be_written() -> None:
    reply = check_off_hours(
        {"enabled": True, "help_url": " https://help.acme.test/ ", "text": "{{ours}} {expected}"}
    )
    assert reply == OffHoursReply(True, "https://help.acme.test/", "{{ours}} {expected}")
    assert check_off_hours({}) == OffHoursReply()


def test_a_stored_setting_that_no_longer_passes_is_off() -> None:
    assert read_off_hours({"off_hours_reply": {"enabled": True, "text": "{x}"}}) == OffHoursReply()
    assert read_off_hours({}) == OffHoursReply()
    assert read_off_hours({"off_hours_reply": {"enabled": True}}).enabled is True


def test_the_default_text_confirms_receipt_and_says_when_and_links_the_help() -> None:
    said = promise(CALENDAR, Target(timedelta(hours=4)), SATURDAY)
    text = render(OffHoursReply(True, "https://help.acme.test/"), said)
    assert text == (
        "Thank you for your message: we have received it. We're closed right now, "
        "so we'll answer by Monday 13:00. Our hours: Mon–Fri 9:00–17:00 CET.\n\n"
        "You may find your answer sooner here: https://help.acme.test/"
    )
    assert "sooner" not in render(OffHoursReply(True), said)
    custom = OffHoursReply(
        True, "https://h.test/", "Back {expected} ({hours}); see {help_url} {{x}}"
    )
    assert render(custom, said) == (
        "Back by Monday 13:00 (Mon–Fri 9:00–17:00 CET); see https://h.test/ {x}"
    )


@pytest.mark.parametrize(
    ("at", "period"),
    [
        ("2026-12-01 10:00", None),  # open
        ("2026-12-04 17:00", "2026-12-07 09:00"),  # Friday closing
        ("2026-12-05 10:00", "2026-12-07 09:00"),  # the same weekend
        ("2026-12-07 08:59", "2026-12-07 09:00"),  # a minute before opening
        ("2026-12-07 17:30", "2026-12-08 09:00"),  # the next evening is a new period
    ],
)
def test_a_closed_period_is_named_by_the_opening_that_ends_it(at: str, period: str | None) -> None:
    assert closed_period(CALENDAR, berlin(at)) == (berlin(period) if period else None)


def test_no_calendar_or_one_never_open_has_no_closed_period() -> None:
    assert closed_period(None, SATURDAY) is None
    assert closed_period(parse_hours({"timezone": "UTC", "days": {}}), SATURDAY) is None


@pytest.mark.parametrize(
    ("sender", "refused"),
    [
        ("email:ana@example.com", False),
        ("email:MAILER-DAEMON@example.com", True),
        ("email:postmaster@example.com", True),
        ("email:no-reply@shop.example", True),
        ("email:noreply@shop.example", True),
        ("email:owner-list@lists.example", True),
        ("email:list-request@lists.example", True),
        ("phone:+14155550101", False),
        ("", False),
    ],
)
def test_no_automatic_reply_goes_to_robot_addresses(sender: str, refused: bool) -> None:
    assert (unanswerable(sender) is not None) is refused
