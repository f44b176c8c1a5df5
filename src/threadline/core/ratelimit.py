"""Rate limits kept in memory: at most N hits per window, per key.

Pure: the time comes in. A sliding-window counter (this window's hits plus the
previous window's, weighted by how much of it still overlaps) costs two numbers
per key whatever the limit, so 600 frames a minute per address costs what one
message a second does. The keys are bounded: past ``max_keys`` the stale ones
go first, then the oldest, which can only let a client through early, never
refuse one wrongly for long.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["RateLimit"]


@dataclass(slots=True)
class _Window:
    start: float
    count: int
    previous: int


class RateLimit:
    def __init__(self, limit: int, window: float, *, max_keys: int = 50_000) -> None:
        if limit < 1 or window <= 0 or max_keys < 1:
            raise ValueError("a rate limit needs a positive limit, window and key count")
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._keys: dict[str, _Window] = {}

    def _current(self, key: str, now: float) -> _Window:
        w = self._keys.get(key)
        start = math.floor(now / self.window) * self.window
        if w is None:
            self._make_room(now)
            w = self._keys[key] = _Window(start, 0, 0)
        elif w.start != start:
            # The window moved on: the old count weighs in only if it was the last one.
            w.previous = w.count if start - w.start == self.window else 0
            w.start, w.count = start, 0
        return w

    def _estimate(self, w: _Window, now: float) -> float:
        overlap = 1.0 - (now - w.start) / self.window
        return w.previous * max(overlap, 0.0) + w.count

    def hit(self, key: str, now: float) -> float:
        """Count a hit and return 0.0, or return the seconds to wait (nothing counted)."""
        w = self._current(key, now)
        if self._estimate(w, now) + 1 > self.limit:
            return max(w.start + self.window - now, 0.001)
        w.count += 1
        return 0.0

    def _make_room(self, now: float) -> None:
        """Keep at most ``max_keys``: drop keys idle for two windows (they count nothing
        any more), then the oldest, down to 90%, so the next sweep is far off."""
        if len(self._keys) < self.max_keys:
            return
        for k in [k for k, w in self._keys.items() if now - w.start >= 2 * self.window]:
            del self._keys[k]
        excess = len(self._keys) - (self.max_keys * 9) // 10
        for k in list(self._keys)[: max(excess, 0)]:
            del self._keys[k]
