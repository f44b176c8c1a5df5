"""The sign-in throttle: how long a client must wait before its next try.

Pure: the failures come counted, the time comes in. Up to ``max_failures``
failures in the window cost nothing; each one past that doubles the wait,
from ``backoff`` up to the whole window, counted from the latest failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["ThrottleMemo", "ThrottlePolicy", "wait_before_next_try"]

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


class ThrottleMemo:
    """Waits already decided, kept by one process so that a flood of tries from a
    throttled client or for a throttled account is refused without a database read.

    Only a decided wait is kept: it can only have grown since (more failures), and a
    success clears the account's failures but was itself refused while the wait ran.
    Bounded: past ``size`` keys the soonest-ending waits are dropped first, which
    costs a read, never a wrong answer.
    """

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._until: dict[str, datetime] = {}

    def wait(self, keys: tuple[str, ...], now: datetime) -> timedelta:
        longest = _ZERO
        for key in keys:
            until = self._until.get(key)
            if until is None:
                continue
            if until <= now:
                del self._until[key]
            else:
                longest = max(longest, until - now)
        return longest

    def remember(self, key: str, until: datetime) -> None:
        if len(self._until) >= self.size and key not in self._until:
            for stale in sorted(self._until, key=self._until.__getitem__)[: self.size // 10 + 1]:
                del self._until[stale]
        self._until[key] = until
