"""Prometheus counters, updated from events."""

from __future__ import annotations

from prometheus_client import Counter

from threadline.core.events import MessageReceived
from threadline.handlers.deps import HandlerDeps

__all__ = ["INBOUND", "count_inbound"]

INBOUND = Counter(
    "threadline_inbound_messages", "Inbound messages stored, by channel", ["channel", "new"]
)


async def count_inbound(event: MessageReceived, deps: HandlerDeps) -> None:
    INBOUND.labels(event.channel, "yes" if event.new_conversation else "no").inc()
