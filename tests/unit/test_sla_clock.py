"""core.sla_clock as tables: when a clock warns, and which timers may still fire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from threadline.core.sla_clock import (
    ClockState,
    Step,
    WarningRule,
    may_fire,
    schedule,
    state_after,
)

T0 = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)  # a Friday, 16:00 in Berlin
S, M, H = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)

WARN_CASES = [
    # (name, span, rule, warning this long after the start, or None)
    ("a chat due in 60 s warns at 75 %, after 45 s", 60 * S, WarningRule(), 45 * S),
    ("SMS due in 15 min: 75 % is later than 15 min before", 15 * M, WarningRule(), 11.25 * M),
    ("email due in 4 h warns 15 min before due", 4 * H, WarningRule(), 3 * H + 45 * M),
    ("an hour: both rules agree at 45 min", H, WarningRule(), 45 * M),
    (
        "business time: Friday 16:00 to Monday 12:00 warns Monday 11:45",
        timedelta(days=2, hours=20),
        WarningRule(),
        timedelta(days=2, hours=19, minutes=45),
    ),
    ("a lead of 5 min", 4 * H, WarningRule(lead=5 * M), 3 * H + 55 * M),
    ("half way, or 1 min before: the later", 10 * M, WarningRule(0.5, M), 9 * M),
    ("half way, or 1 h before: the later", 10 * M, WarningRule(0.5, H), 5 * M),
    ("no lead: the later is the due time, so no warning", 10 * M, WarningRule(0.5, 0 * M), None),
    ("a due time at the start: no warning", timedelta(0), WarningRule(), None),
    ("a due time before the start: no warning", -M, WarningRule(), None),
]


@pytest.mark.parametrize(
    ("span", "rule", "after"), [c[1:] for c in WARN_CASES], ids=[c[0] for c in WARN_CASES]
)
def test_when_a_clock_warns(span: timedelta, rule: WarningRule, after: timedelta | None) -> None:
    plan = schedule(T0, T0 + span, rule)
    assert plan.due_at == T0 + span
    assert plan.warn_at == (None if after is None else T0 + after)


def test_naive_times_and_bad_rules_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        schedule(T0.replace(tzinfo=None), T0 + H)
    with pytest.raises(ValueError, match="naive"):
        schedule(T0, (T0 + H).replace(tzinfo=None))
    with pytest.raises(ValueError, match="between 0 and 1"):
        WarningRule(fraction=1.5)
    with pytest.raises(ValueError, match="negative"):
        WarningRule(lead=-M)


R, W, B = ClockState.RUNNING, ClockState.WARNING, ClockState.BREACHED

STATE_CASES = [
    (R, Step.WARN, W),
    (R, Step.BREACH, B),
    (W, Step.WARN, W),
    (W, Step.BREACH, B),
    (B, Step.WARN, B),  # never backwards
    (B, Step.BREACH, B),
]


@pytest.mark.parametrize(("current", "step", "after"), STATE_CASES)
def test_a_clock_only_moves_forward(current: ClockState, step: Step, after: ClockState) -> None:
    assert state_after(current, step) is after


DUE = T0 + H
BEFORE, AFTER = DUE - 10 * M, DUE + S

FIRE_CASES = [
    # (name, current state, the clock's due time now, step, now, fires)
    ("a warning on time", R, DUE, Step.WARN, BEFORE, True),
    ("a breach on time", W, DUE, Step.BREACH, AFTER, True),
    ("a breach with no warning before it", R, DUE, Step.BREACH, AFTER, True),
    ("the clock stopped: answered or resolved", None, None, Step.BREACH, AFTER, False),
    ("the due time moved later", R, DUE + H, Step.WARN, BEFORE, False),
    ("the due time moved earlier", R, DUE - 30 * M, Step.BREACH, AFTER, False),
    ("a warning that ran before (its completion lost)", W, DUE, Step.WARN, BEFORE, False),
    ("a breach that ran before", B, DUE, Step.BREACH, AFTER, False),
    ("a warning after the breach", B, DUE, Step.WARN, AFTER, False),
    ("a warning late, past due (a restart): the breach says it", R, DUE, Step.WARN, DUE, False),
]


@pytest.mark.parametrize(
    ("current", "current_due", "step", "now", "fires"),
    [c[1:] for c in FIRE_CASES],
    ids=[c[0] for c in FIRE_CASES],
)
def test_which_timers_fire(
    current: ClockState | None,
    current_due: datetime | None,
    step: Step,
    now: datetime,
    fires: bool,
) -> None:
    assert (
        may_fire(current=current, current_due=current_due, timer_due=DUE, step=step, now=now)
        is fires
    )
