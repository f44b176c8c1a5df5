"""The shift and assignment-setting checks, fed anything JSON can hold: each one
returns a checked value or raises its declared error (ScheduleError, ActionError),
and what it accepts behaves (on_shift answers, next_batch is never in the past)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from threadline.actions.assignment_settings import check_capacity, check_skills
from threadline.actions.errors import ActionError
from threadline.core.shifts import (
    ScheduleError,
    check_batch_times,
    check_schedule,
    next_batch,
    on_shift,
    schedule_from_text,
)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
CLOCKS = st.sampled_from(["00:00", "09:00", "12:30", "23:59", "24:00", "25:00", "9", "x"])
DAYS = st.lists(st.sampled_from(["mon", "tue", "sun", "xyz"]), max_size=3)
CHANNELS = st.lists(st.sampled_from(["chat", "email", "fax"]), max_size=3)
SPAN = (
    st.fixed_dictionaries({"days": DAYS, "start": CLOCKS, "end": CLOCKS, "channels": CHANNELS})
    | JSON
)
ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Nowhere/City", ""])
SCHEDULE = st.fixed_dictionaries({"timezone": ZONES, "spans": st.lists(SPAN, max_size=5)}) | JSON
INSTANTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@given(SCHEDULE, INSTANTS, st.sampled_from(["chat", "email"]))
def test_a_schedule_is_checked_or_refused(raw: Any, now: datetime, channel: str) -> None:
    try:
        schedule = check_schedule(raw)
    except ScheduleError:
        return
    assert on_shift(schedule, channel, now) in (True, False)


@given(st.lists(CLOCKS, max_size=5) | JSON, ZONES, INSTANTS)
def test_batch_times_are_checked_or_refused_and_never_due_in_the_past(
    raw: Any, zone: str, now: datetime
) -> None:
    try:
        batches = check_batch_times(raw, zone)
    except ScheduleError:
        return
    due = next_batch(batches, now)
    assert now <= due <= now + timedelta(days=2)


@given(st.text(max_size=300), ZONES)
def test_settings_lines_become_a_schedule_or_say_which_line(text: str, zone: str) -> None:
    try:
        raw = schedule_from_text(text, zone)
        check_schedule(raw)
    except ScheduleError:
        pass


@given(JSON)
def test_capacity_and_skills_are_checked_or_refused(raw: Any) -> None:
    for check in (check_capacity, check_skills):
        with contextlib.suppress(ActionError):
            check(raw)
