"""The Redis broker: one seq order and a capped history shared by every process.

One Lua script takes the next seq, stores the delivery in a sorted set scored by
seq (trimmed to the history size) and PUBLISHes it, so the channel carries seqs
in order and the history holds whatever a process missed. Each process keeps one
pub/sub subscription and fans out locally; after every (re)subscribe it reads
the history after the last seq it delivered, and it drops seqs it already has,
so a dropped connection loses nothing that the history still holds.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import RedisError

from threadline.ports import Delivery
from threadline.realtime.fanout import (
    MAX_REPLAY,
    Fanout,
    check_sizes,
    decode,
    encode,
    replay_limit,
    seq_base,
)

__all__ = ["RedisBroker"]

log = structlog.get_logger(__name__)

# KEYS: seq, history. ARGV: channel, body, history size, seq base.
# Seqs go through string.format: Lua's own number formatting would print big
# ones in exponent form, and ZADD would then store a rounded score.
_PUBLISH = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[4]) end
local seq = string.format('%d', redis.call('INCR', KEYS[1]))
local item = seq .. ' ' .. ARGV[2]
redis.call('ZADD', KEYS[2], seq, item)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[3]) + 1))
redis.call('PUBLISH', ARGV[1], item)
return seq
"""

# KEYS: seq, history. ARGV: after, limit. nil when `after` is outside what is kept.
_REPLAY = """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
local floor = last
if #oldest > 0 then floor = tonumber(oldest[2]) - 1 end
local after = tonumber(ARGV[1])
if after < floor or after > last then return false end
return redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'LIMIT', 0, ARGV[2])
"""

POLL_SECONDS = 1.0
MAX_BACKOFF = 2.0


class RedisBroker:
    """Processes sharing a broker share its Redis, prefix and history size."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "tl:",
        history: int = 10_000,
        listener_buffer: int = 1000,
        max_payload: int = 16_384,
    ) -> None:
        check_sizes(history, max_payload)
        self.url = url
        self.history = history
        self.max_payload = max_payload
        # CLIENT LIST shows which process holds which connection.
        self.client_name = f"threadline-rt-{uuid.uuid4().hex[:12]}"
        self._seq_key = f"{prefix}rt:seq"
        self._history_key = f"{prefix}rt:history"
        self._channel = f"{prefix}rt:deliveries"
        self._fanout = Fanout(listener_buffer)
        self._redis: Redis | None = None
        self._pubsub: PubSub | None = None
        self._pump: asyncio.Task[None] | None = None
        self._closing = False
        self._lock = asyncio.Lock()

    def _client(self) -> Redis:
        if self._redis is None:
            # Publishing runs in the handlers after a request's commit: a Redis
            # that is down must cost it a short wait, not seconds of retries.
            self._redis = Redis.from_url(
                self.url,
                client_name=self.client_name,
                socket_connect_timeout=2.0,
                socket_timeout=5.0,
                health_check_interval=10,
                retry=Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.25), 2),
            )
            self._publish = self._redis.register_script(_PUBLISH)
            self._replay = self._redis.register_script(_REPLAY)
        return self._redis

    async def start(self) -> None:
        async with self._lock:
            if self._pump is not None:
                return
            self._fanout.closed = self._closing = False
            await self._client().set(self._seq_key, seq_base(), nx=True)
            await self._subscribe()
            self._fanout.last = await self.last_seq()
            self._pump = asyncio.create_task(self._run(), name="realtime-redis-pump")

    async def aclose(self) -> None:
        async with self._lock:
            self._fanout.close_all()
            if self._pump is not None:
                # redis-py 8.1 can swallow a cancel that lands inside a command
                # (a socket_timeout is set): the flag stops the pump at its next poll.
                self._closing = True
                self._pump.cancel()
                with suppress(asyncio.CancelledError):
                    await self._pump
                self._pump = None
            await self._drop_pubsub()
            if self._redis is not None:
                await self._redis.aclose()
                self._redis = None

    async def publish(self, topic: str, data: Mapping[str, Any]) -> int:
        body = encode(topic, data, self.max_payload)
        self._client()
        seq = await self._publish(
            keys=[self._seq_key, self._history_key],
            args=[self._channel, body, self.history, seq_base()],
        )
        return int(seq)

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[AsyncIterator[Delivery]]:
        if self._pump is None and not self._fanout.closed:
            await self.start()  # the subscription must exist before anything counts as seen
        async with self._fanout.listen() as deliveries:
            yield deliveries

    async def replay(self, after: int, limit: int = 1000) -> list[Delivery] | None:
        limit = replay_limit(limit)
        self._client()
        items = await self._replay(
            keys=[self._seq_key, self._history_key], args=[int(after), limit]
        )
        if items is None:
            return None
        return [_parse(item) for item in items]

    async def last_seq(self) -> int:
        value = await self._client().get(self._seq_key)
        return int(value or 0)

    # -- the one subscription per process ------------------------------------------
    async def _subscribe(self) -> PubSub:
        pubsub = self._client().pubsub()
        try:
            await pubsub.subscribe(self._channel)
            # Wait for the confirmation: from here on every publish reaches us.
            while True:
                message = await pubsub.get_message(timeout=5.0)
                if message is None:
                    raise TimeoutError("Redis did not confirm the subscription")
                if message["type"] == "subscribe":
                    break
        except BaseException:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            raise
        self._pubsub = pubsub
        return pubsub

    async def _drop_pubsub(self) -> None:
        if self._pubsub is not None:
            pubsub, self._pubsub = self._pubsub, None
            with suppress(RedisError, OSError):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _run(self) -> None:
        backoff = 0.05
        while not self._closing:
            try:
                pubsub = self._pubsub
                if pubsub is None:
                    pubsub = await self._subscribe()
                    await self._catch_up()
                message = await pubsub.get_message(timeout=POLL_SECONDS)
                backoff = 0.05
                if message is None:
                    continue
                if message["type"] == "subscribe":
                    # redis-py reconnected and subscribed again by itself.
                    await self._catch_up()
                elif message["type"] == "message":
                    await self._receive(message["data"])
            except (RedisError, OSError) as exc:
                log.warning("realtime.redis_lost", error=str(exc), retry_in=backoff)
                await self._drop_pubsub()
            except Exception:
                log.exception("realtime.pump_failed", retry_in=backoff)
            else:
                continue
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)

    async def _receive(self, item: bytes) -> None:
        delivery = _parse(item)
        if delivery.seq <= self._fanout.last:
            return  # already delivered from the history
        if delivery.seq > self._fanout.last + 1:
            await self._catch_up()  # we missed some: the history has them, and this one
            return
        self._fanout.deliver(delivery)

    async def _catch_up(self) -> None:
        while True:
            batch = await self.replay(self._fanout.last, MAX_REPLAY)
            if batch is None:
                # Trimmed past us, or Redis lost its data: every listener resyncs.
                await self._client().set(self._seq_key, seq_base(), nx=True)
                last = await self.last_seq()
                log.warning("realtime.history_lost", after=self._fanout.last, now=last)
                self._fanout.lag_all(last)
                return
            for delivery in batch:
                self._fanout.deliver(delivery)
            if len(batch) < MAX_REPLAY:
                return


def _parse(item: bytes) -> Delivery:
    seq, _, body = item.partition(b" ")
    return decode(int(seq), body)
