"""What both brokers share: the wire form of a delivery, and the local fan-out to listeners.

A broker feeds ``Fanout.deliver`` in seq order with no gaps; each listener gets a
bounded buffer, so one stalled consumer costs at most its buffer, never the
process's memory, and learns it lagged instead of silently missing events.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import orjson

from threadline.ports import Delivery, Lagged

__all__ = [
    "MAX_REPLAY",
    "MAX_TOPIC",
    "Fanout",
    "check_sizes",
    "decode",
    "encode",
    "replay_limit",
    "seq_base",
]

MAX_TOPIC = 200
MAX_REPLAY = 1000


def seq_base() -> int:
    """Where a fresh seq counter starts: the wall clock in microseconds.

    A restarted process (memory) or a wiped Redis then never hands out a seq a
    tab still remembers, so a resume cannot skip a new event as "already seen".
    Microseconds stay below 2**53 (a JavaScript number) for two centuries.
    """
    return time.time_ns() // 1000


def encode(topic: str, data: Mapping[str, Any], max_bytes: int) -> bytes:
    """The JSON body both brokers store: ValueError when it is not one we carry."""
    if not isinstance(topic, str) or not topic or len(topic) > MAX_TOPIC:
        raise ValueError(f"a realtime topic is 1 to {MAX_TOPIC} characters")
    body = orjson.dumps([topic, dict(data)])
    if len(body) > max_bytes:
        raise ValueError(
            f"realtime payload of {len(body)} bytes exceeds the {max_bytes}-byte limit"
        )
    return body


def decode(seq: int, body: bytes) -> Delivery:
    topic, data = orjson.loads(body)
    return Delivery(seq, topic, data)


def check_sizes(history: int, max_payload: int) -> None:
    if history < 1 or max_payload < 64:
        raise ValueError("a broker keeps at least 1 delivery of at least 64 bytes")


def replay_limit(limit: int) -> int:
    if limit < 1:
        raise ValueError("replay limit must be at least 1")
    return min(limit, MAX_REPLAY)


class _Listener:
    __slots__ = ("buffer", "closed", "lagged", "last", "size", "wake")

    def __init__(self, last: int, size: int) -> None:
        self.buffer: deque[Delivery] = deque()
        self.size = size
        self.last = last  # the last seq handed to the consumer
        self.lagged = False
        self.closed = False
        self.wake = asyncio.Event()

    def put(self, delivery: Delivery) -> None:
        if self.lagged:
            return
        if len(self.buffer) >= self.size:
            # Drop everything: the consumer resyncs from `last` anyway.
            self.lagged = True
            self.buffer.clear()
        else:
            self.buffer.append(delivery)
        self.wake.set()

    def finish(self) -> None:
        self.closed = True
        self.wake.set()

    async def __anext__(self) -> Delivery:
        while True:
            if self.lagged:
                raise Lagged(self.last)
            if self.buffer:
                delivery = self.buffer.popleft()
                self.last = delivery.seq
                return delivery
            if self.closed:
                raise StopAsyncIteration
            self.wake.clear()
            await self.wake.wait()

    def __aiter__(self) -> _Listener:
        return self


class Fanout:
    """This process's listeners, fed in seq order by one broker."""

    def __init__(self, buffer: int) -> None:
        if buffer < 1:
            raise ValueError("a listener buffers at least 1 delivery")
        self.buffer = buffer
        self.last = 0  # the last seq delivered here
        self.closed = False  # the broker stopped: iterations end
        self._listeners: set[_Listener] = set()

    def deliver(self, delivery: Delivery) -> None:
        self.last = delivery.seq
        for listener in self._listeners:
            listener.put(delivery)

    def lag_all(self, last: int) -> None:
        """History is gone (Redis lost it, or we were cut off too long): all resync."""
        for listener in self._listeners:
            listener.lagged = True
            listener.wake.set()
        self.last = last

    def close_all(self) -> None:
        self.closed = True
        for listener in self._listeners:
            listener.finish()

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[AsyncIterator[Delivery]]:
        listener = _Listener(self.last, self.buffer)
        if self.closed:
            listener.finish()
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)
