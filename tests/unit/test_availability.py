"""core.availability: what the chat widget says about when an answer comes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from threadline.core.availability import availability, describe_wait, describe_when

HOURS = {
    "timezone": "UTC",
    "days": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
}
MONDAY_10 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
FRIDAY_18 = datetime(2026, 11, 6, 18, 0, tzinfo=UTC)


def test_online_needs_an_agent_and_open_hours() -> None:
    assert availability(HOURS, MONDAY_10, agents_online=True).online is True
    assert availability(HOURS, MONDAY_10, agents_online=False).online is False
    assert availability(HOURS, FRIDAY_18, agents_online=True).online is False


def test_expectations_follow_the_chat_target_and_the_next_opening() -> None:
    assert (
        availability(None, MONDAY_10, agents_online=True).expect
        == "We usually reply within a minute"
    )
    closed = availability(HOURS, FRIDAY_18, agents_online=True)
    assert closed.expect == "We're back Monday 9:00; we'll reply by email"
    assert "email" in availability(HOURS, MONDAY_10, agents_online=False).expect


def test_a_broken_calendar_counts_as_open() -> None:
    broken = {"timezone": "Mars/Olympus"}
    assert availability(broken, MONDAY_10, agents_online=True).online is True


def test_waits_and_openings_read_as_people_say_them() -> None:
    assert describe_wait(timedelta(seconds=30)) == "a minute"
    assert describe_wait(timedelta(minutes=15)) == "15 minutes"
    assert describe_wait(timedelta(hours=1)) == "1 hour"
    assert describe_wait(timedelta(hours=30)) == "1 day"
    assert describe_when(MONDAY_10 + timedelta(hours=3), MONDAY_10) == "today at 13:00"
    assert describe_when(MONDAY_10 + timedelta(days=1), MONDAY_10) == "tomorrow at 10:00"
    assert describe_when(MONDAY_10 + timedelta(days=10), MONDAY_10) == "Thursday 12 Nov 10:00"
