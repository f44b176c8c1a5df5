"""core.ratelimit: at most N hits per window per key, in bounded memory."""

from __future__ import annotations

import pytest

from threadline.core.ratelimit import RateLimit


def test_the_limit_holds_within_a_window_and_frees_after_it() -> None:
    limit = RateLimit(3, 10.0)
    assert [limit.hit("a", 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limit.hit("a", 101.0)
    assert 0 < wait <= 10.0
    assert limit.hit("b", 101.0) == 0.0  # keys are counted apart
    # Two windows later nothing of the burst weighs any more.
    assert limit.hit("a", 121.0) == 0.0


def test_the_previous_window_still_weighs_in_as_it_slides_away() -> None:
    limit = RateLimit(10, 10.0)
    for _ in range(10):
        assert limit.hit("a", 109.0) == 0.0
    # Just past the boundary the old window still counts almost whole: refused.
    assert limit.hit("a", 110.5) > 0
    # Near the end of the next window it has slid almost out.
    assert limit.hit("a", 119.5) == 0.0


def test_a_refused_hit_is_not_counted() -> None:
    limit = RateLimit(1, 1.0)
    assert limit.hit("a", 0.0) == 0.0
    for _ in range(100):
        assert limit.hit("a", 0.5) > 0
    assert limit.hit("a", 2.0) == 0.0


def test_keys_stay_bounded() -> None:
    limit = RateLimit(1, 60.0, max_keys=100)
    for n in range(1000):
        limit.hit(f"k{n}", 0.0)
    assert len(limit._keys) <= 100


def test_a_limit_needs_sane_numbers() -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimit(0, 1.0)
