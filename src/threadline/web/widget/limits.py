"""The widget's rate limits (docs/widget.md, "Limits"), per process.

Kept in memory, against the container's clock: behind a load balancer each
process counts what it sees, so a client spread over N processes gets up to N
times the allowance. That bounds abuse; it is not billing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from threadline.core.ratelimit import RateLimit, TokenBuckets

__all__ = ["WidgetLimits"]


def _per(count: int, seconds: float) -> TokenBuckets:
    """``count`` at once, and ``count`` more every ``seconds``."""
    return TokenBuckets(RateLimit(burst=count, per_second=count / seconds))


@dataclass
class WidgetLimits:
    # per visitor
    messages: TokenBuckets = field(default_factory=lambda: _per(10, 10.0))
    typing: TokenBuckets = field(default_factory=lambda: _per(1, 1.0))
    uploads: TokenBuckets = field(default_factory=lambda: _per(20, 3600.0))
    # per client address
    new_visitors: TokenBuckets = field(default_factory=lambda: _per(30, 60.0))
    frames: TokenBuckets = field(default_factory=lambda: _per(600, 60.0))
