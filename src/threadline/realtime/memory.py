"""The in-process broker for the one-process default."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from itertools import islice
from typing import Any

from threadline.ports import Delivery
from threadline.realtime.fanout import (
    Fanout,
    check_sizes,
    decode,
    encode,
    replay_limit,
    seq_base,
)

__all__ = ["MemoryBroker"]


class MemoryBroker:
    def __init__(
        self, *, history: int = 10_000, listener_buffer: int = 1000, max_payload: int = 16_384
    ) -> None:
        check_sizes(history, max_payload)
        self.max_payload = max_payload
        self._seq = seq_base()
        self._history: deque[Delivery] = deque(maxlen=history)
        self._fanout = Fanout(listener_buffer)
        self._fanout.last = self._seq

    async def start(self) -> None:
        self._fanout.closed = False

    async def aclose(self) -> None:
        self._fanout.close_all()

    async def publish(self, topic: str, data: Mapping[str, Any]) -> int:
        body = encode(topic, data, self.max_payload)
        self._seq += 1
        # Listeners get the JSON round trip, as from Redis: the same types, and
        # no consumer can change what another one sees.
        delivery = decode(self._seq, body)
        self._history.append(delivery)
        self._fanout.deliver(delivery)
        return self._seq

    def listen(self) -> AbstractAsyncContextManager[AsyncIterator[Delivery]]:
        return self._fanout.listen()

    async def replay(self, after: int, limit: int = 1000) -> list[Delivery] | None:
        limit = replay_limit(limit)
        floor = self._history[0].seq - 1 if self._history else self._seq
        if not floor <= after <= self._seq:
            return None
        # Seqs here are consecutive, so `after` sits at a known index.
        start = after - floor
        return list(islice(self._history, start, start + limit))

    async def last_seq(self) -> int:
        return self._seq
