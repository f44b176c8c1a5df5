"""The in-process broker for the one-process default."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

__all__ = ["MemoryBroker"]


class MemoryBroker:
    def __init__(self, queue_size: int = 1000) -> None:
        self._subs: defaultdict[str, set[asyncio.Queue[Mapping[str, Any]]]] = defaultdict(set)
        self._size = queue_size

    async def publish(self, topic: str, data: Mapping[str, Any]) -> None:
        for q in list(self._subs.get(topic, ())):
            if q.full():
                # A stalled tab must not slow everyone else: it drops its oldest
                # event and catches up from the timeline when it reconnects.
                q.get_nowait()
            q.put_nowait(data)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[asyncio.Queue[Mapping[str, Any]]]:
        q: asyncio.Queue[Mapping[str, Any]] = asyncio.Queue(self._size)
        self._subs[topic].add(q)
        try:
            yield q
        finally:
            self._subs[topic].discard(q)
            if not self._subs[topic]:
                del self._subs[topic]
