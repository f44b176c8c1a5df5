"""The sign-in throttle as a table: failures, the latest one, now -> the wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from threadline.core.throttle import ThrottlePolicy, wait_before_next_try

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(window=timedelta(minutes=15), max_failures=5, backoff=timedelta(seconds=30))
S = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("failures", "latest", "now", "wait"),
    [
        (0, None, T0, 0 * S),
        (4, T0, T0, 0 * S),  # under the limit: no wait
        (5, T0, T0, 30 * S),  # at the limit: the base backoff
        (5, T0, T0 + 10 * S, 20 * S),  # counted from the latest failure
        (5, T0, T0 + 30 * S, 0 * S),
        (6, T0, T0, 60 * S),  # each failure past it doubles the wait
        (8, T0, T0, 240 * S),
        (12, T0, T0, 15 * 60 * S),  # never longer than the window
        (10_000, T0, T0, 15 * 60 * S),  # and no overflow on absurd counts
    ],
)
def test_wait_before_next_try(
    failures: int, latest: datetime | None, now: datetime, wait: timedelta
) -> None:
    assert wait_before_next_try(failures, latest, now, POLICY) == wait
