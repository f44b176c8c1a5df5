"""Tags and snooze times, as agents type them: what is kept, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from threadline.core.conversation import InvalidTransition, check_snooze
from threadline.core.tags import InvalidTag, normalize_tag, normalize_tags

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("VIP", "vip"),
        ("  Refund  ", "refund"),
        ("late   delivery", "late delivery"),
        ("needs\tcall-back", "needs call-back"),
        ("bug_42", "bug_42"),
        ("Überweisung", "überweisung"),
        ("x" * 50, "x" * 50),
    ],
)
def test_a_tag_is_stripped_lowercased_and_its_spaces_folded(typed: str, stored: str) -> None:
    assert normalize_tag(typed) == stored


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("x" * 51, "at most 50"),
        ("vip!", "letters"),
        ("a/b", "letters"),
        ("<script>", "letters"),
        ("emoji 🎉", "letters"),
    ],
)
def test_a_tag_that_cannot_be_stored_is_refused_with_the_reason(typed: str, why: str) -> None:
    with pytest.raises(InvalidTag, match=why):
        normalize_tag(typed)


def test_tags_typed_twice_are_kept_once_in_the_order_given() -> None:
    assert normalize_tags(["Bug", "vip", "BUG ", "refund"]) == ["bug", "vip", "refund"]


@pytest.mark.parametrize(
    ("until", "why"),
    [
        (None, "needs a time"),
        (datetime(2026, 11, 3, 9, 0), "time zone"),
        (NOW, "future"),
        (NOW - timedelta(minutes=1), "future"),
        (NOW + timedelta(days=367), "at most 366 days"),
    ],
)
def test_a_snooze_time_must_be_aware_future_and_within_a_year(
    until: datetime | None, why: str
) -> None:
    with pytest.raises(InvalidTransition, match=why):
        check_snooze(until, NOW)


def test_a_snooze_time_in_range_is_kept() -> None:
    for until in (NOW + timedelta(minutes=1), NOW + timedelta(days=366)):
        assert check_snooze(until, NOW) == until
