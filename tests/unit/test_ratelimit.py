from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threadline.core.ratelimit import RateLimit, TokenBuckets


def test_a_burst_goes_through_then_the_next_try_waits_for_one_token() -> None:
    buckets = TokenBuckets(RateLimit(burst=3, per_second=0.5))
    assert [buckets.take("a", 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a", 100.0) == pytest.approx(2.0)
    assert buckets.take("a", 101.0) == pytest.approx(1.0)
    assert buckets.take("a", 102.0) == 0.0


def test_keys_have_buckets_of_their_own() -> None:
    buckets = TokenBuckets(RateLimit(burst=1, per_second=1.0))
    assert buckets.take("a", 0.0) == 0.0
    assert buckets.take("a", 0.0) > 0
    assert buckets.take("b", 0.0) == 0.0


def test_a_bucket_refills_only_up_to_its_burst() -> None:
    buckets = TokenBuckets(RateLimit(burst=2, per_second=10.0))
    buckets.take("a", 0.0)
    assert [buckets.take("a", 3600.0) for _ in range(3)][2] > 0


def test_memory_is_bounded_by_forgetting_the_least_recently_used_key() -> None:
    buckets = TokenBuckets(RateLimit(burst=1, per_second=0.001), max_keys=2)
    buckets.take("old", 0.0)
    buckets.take("kept", 0.0)
    buckets.take("kept", 0.0)  # refused, and now the most recently used
    buckets.take("new", 0.0)
    assert len(buckets) == 2
    assert buckets.take("kept", 0.0) > 0  # still remembered: still refused
    assert buckets.take("old", 0.0) == 0.0  # forgotten: a full bucket again


def test_a_limit_needs_a_burst_and_a_positive_rate() -> None:
    with pytest.raises(ValueError, match="rate limit needs"):
        RateLimit(burst=0, per_second=1.0)
    with pytest.raises(ValueError, match="rate limit needs"):
        RateLimit(burst=1, per_second=0.0)


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=200))
def test_no_more_tries_pass_than_the_burst_plus_the_refill(times: list[float]) -> None:
    limit = RateLimit(burst=5, per_second=2.0)
    buckets = TokenBuckets(limit)
    times = sorted(times)
    passed = sum(buckets.take("k", t) == 0.0 for t in times)
    assert passed <= limit.burst + (times[-1] - times[0]) * limit.per_second + 1e-6
