"""Token buckets: how many tries a key (a client address, a visitor) may make now.

Pure: the time comes in, in seconds on any monotonic clock. A bucket holds up to
``burst`` tokens and gains ``per_second`` of them back; a try takes one. Memory is
bounded: past ``max_keys`` the least recently used buckets are forgotten, which
only ever hands a forgotten key a full bucket again, never refuses a wrong one.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["RateLimit", "TokenBuckets"]


@dataclass(frozen=True, slots=True)
class RateLimit:
    burst: int
    per_second: float

    def __post_init__(self) -> None:
        if self.burst < 1 or not self.per_second > 0:
            raise ValueError("a rate limit needs a burst of 1 or more and a positive rate")


class TokenBuckets:
    def __init__(self, limit: RateLimit, *, max_keys: int = 50_000) -> None:
        self.limit = limit
        self.max_keys = max_keys
        # key -> (tokens, when they were counted)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, now: float) -> float:
        """0.0 when ``key`` may go ahead now (a token is spent), else the seconds
        until it may."""
        burst, rate = self.limit.burst, self.limit.per_second
        tokens, then = self._buckets.pop(key, (float(burst), now))
        tokens = min(float(burst), tokens + max(0.0, now - then) * rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / rate
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)
