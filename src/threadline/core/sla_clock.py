"""SLA clocks: when a running response target warns, when it is breached, and
which step a timer that fires may still take.

Pure. core/sla.py decides *when* something is due (targets, business hours);
this module decides what happens on the way there. A clock runs from its start
to its due time and passes through three states, never backwards:

    running → warning → breached

The warning comes at the later of two moments: when ``fraction`` (75 %) of
the span has passed, or ``lead`` (15 minutes) before the due time. So a short
target warns near its end (a chat due in 60 s warns after 45 s), and a long one
warns a fixed lead before it is due (an email due in 4 hours warns 15 minutes
before), rather than an hour early. Those are the defaults; the timers
(actions/sla_clock.py) take ``fraction`` from the policy's warn_percent, 80 % in
the seeds, so a seeded chat warns after 48 s. A due time that is moved or cleared stops
the clock: the timers scheduled for the old due time must then do nothing,
which ``may_fire`` decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = [
    "DEFAULT_WARNING",
    "ClockKind",
    "ClockState",
    "Schedule",
    "Step",
    "WarningRule",
    "may_fire",
    "schedule",
    "state_after",
]


class ClockKind(StrEnum):
    """The response targets a conversation can be held to (issue 9's SLA policy)."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"
    CALLBACK = "callback"


class ClockState(StrEnum):
    RUNNING = "running"
    WARNING = "warning"
    BREACHED = "breached"


class Step(StrEnum):
    """What a timer does when it fires."""

    WARN = "warn"
    BREACH = "breach"


_ORDER = {ClockState.RUNNING: 0, ClockState.WARNING: 1, ClockState.BREACHED: 2}
_REACHES = {Step.WARN: ClockState.WARNING, Step.BREACH: ClockState.BREACHED}


@dataclass(frozen=True, slots=True)
class WarningRule:
    """Warn at the later of ``fraction`` of the span and ``lead`` before due."""

    fraction: float = 0.75
    lead: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError("the warning fraction is between 0 and 1")
        if self.lead < timedelta(0):
            raise ValueError("the warning lead cannot be negative")


DEFAULT_WARNING = WarningRule()


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a clock's timers fire. ``warn_at`` is None when there is no time to
    warn in (a span of zero, or a due time already past at the start)."""

    started_at: datetime
    due_at: datetime
    warn_at: datetime | None


def _aware(when: datetime, name: str) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"naive datetime for {name}: SLA clocks need aware ones")


def schedule(
    started_at: datetime, due_at: datetime, rule: WarningRule = DEFAULT_WARNING
) -> Schedule:
    """The timers of a clock that started at ``started_at`` and is due at ``due_at``.

    The span is wall-clock time: a due time counted in business hours (Friday
    16:00 → Monday 12:00) warns ``lead`` before it, when someone is there to act.
    Raises ValueError for naive datetimes.
    """
    _aware(started_at, "started_at")
    _aware(due_at, "due_at")
    span = due_at - started_at
    if span <= timedelta(0):
        return Schedule(started_at, due_at, None)
    warn_at = max(started_at + span * rule.fraction, due_at - rule.lead)
    return Schedule(started_at, due_at, warn_at if warn_at < due_at else None)


def state_after(current: ClockState, step: Step) -> ClockState:
    """The state a step leads to; a clock never goes back (a late warning after a
    breach leaves it breached)."""
    reached = _REACHES[step]
    return reached if _ORDER[reached] > _ORDER[current] else current


def may_fire(
    *,
    current: ClockState | None,
    current_due: datetime | None,
    timer_due: datetime,
    step: Step,
    now: datetime,
) -> bool:
    """Whether a timer scheduled for ``timer_due`` takes its step now.

    No: the clock stopped (``current`` None: answered, resolved, merged away),
    its due time moved since the timer was scheduled, or the clock already is
    where the step would take it (the timer ran before and its completion was
    lost, or the breach came first after a restart). A warning that comes at or
    after the due time is dropped too: the breach says more, and after a
    restart both timers are due at once.
    """
    if current is None or current_due is None or current_due != timer_due:
        return False
    if step is Step.WARN and now >= timer_due:
        return False
    return state_after(current, step) != current
