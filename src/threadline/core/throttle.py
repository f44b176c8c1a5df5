"""The sign-in throttle: how long a client must wait before its next try.

Pure: the failures come counted, the time comes in. Up to ``max_failures``
failures in the window cost nothing; each one past that doubles the wait,
from ``backoff`` up to the whole window, counted from the latest failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["ThrottlePolicy", "wait_before_next_try"]

_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    window: timedelta = timedelta(minutes=15)
    max_failures: int = 5
    backoff: timedelta = timedelta(seconds=30)


def wait_before_next_try(
    failures: int, latest: datetime | None, now: datetime, policy: ThrottlePolicy
) -> timedelta:
    """Zero when a try is allowed now, else how long until it is."""
    if latest is None or failures < policy.max_failures:
        return _ZERO
    doublings = min(failures - policy.max_failures, 32)  # 2**32 × backoff outgrows any window
    delay: timedelta = min(policy.backoff * (2**doublings), policy.window)
    remaining: timedelta = latest + delay - now
    return max(remaining, _ZERO)
