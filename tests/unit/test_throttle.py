"""The sign-in throttle as a table: failures, the latest one, now -> the wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from threadline.core.throttle import ThrottleMemo, ThrottlePolicy, wait_before_next_try

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


# -- the per-process memo of decided waits ------------------------------------------
def test_memo_answers_a_decided_wait_until_it_ends() -> None:
    memo = ThrottleMemo()
    start = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    memo.remember("client:203.0.113.9", start + timedelta(seconds=30))
    assert memo.wait(("account:ana@example.com", "client:203.0.113.9"), start) == timedelta(
        seconds=30
    )
    assert memo.wait(("account:ana@example.com",), start) == timedelta(0)
    assert memo.wait(("client:203.0.113.9",), start + timedelta(seconds=30)) == timedelta(0)


def test_memo_takes_the_longest_of_the_keys_waits() -> None:
    memo = ThrottleMemo()
    now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    memo.remember("account:ana@example.com", now + timedelta(minutes=4))
    memo.remember("client:203.0.113.9", now + timedelta(seconds=30))
    assert memo.wait(("account:ana@example.com", "client:203.0.113.9"), now) == timedelta(minutes=4)


def test_memo_stays_bounded_and_drops_the_soonest_ending_waits_first() -> None:
    memo = ThrottleMemo(size=10)
    now = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    for i in range(10):
        memo.remember(f"client:{i}", now + timedelta(seconds=10 + i))
    memo.remember("client:late", now + timedelta(minutes=15))
    assert len(memo._until) <= 10
    assert memo.wait(("client:0",), now) == timedelta(0)  # dropped: a read, not a wrong answer
    assert memo.wait(("client:9",), now) == timedelta(seconds=19)
    assert memo.wait(("client:late",), now) == timedelta(minutes=15)
