"""The widget's rate limits (docs/widget.md, "Limits"), per process.

Kept in memory, against the container's clock: behind a load balancer each
process counts what it sees, so a client spread over N processes gets up to N
times the allowance. That bounds abuse; it is not billing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from threadline.core.ratelimit import RateLimit

__all__ = ["WidgetLimits"]


@dataclass
class WidgetLimits:
    # per visitor
    messages: RateLimit = field(default_factory=lambda: RateLimit(10, 10.0))
    typing: RateLimit = field(default_factory=lambda: RateLimit(1, 1.0))
    uploads: RateLimit = field(default_factory=lambda: RateLimit(20, 3600.0))
    # per client address
    new_visitors: RateLimit = field(default_factory=lambda: RateLimit(30, 60.0))
    frames: RateLimit = field(default_factory=lambda: RateLimit(600, 60.0))
