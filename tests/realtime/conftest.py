"""The realtime contract suites run over both backends: memory and Redis.

Redis is THREADLINE_TEST_REDIS_URL (default redis://127.0.0.1:6379/0); each
test gets its own key prefix, so runs and parallel tests never share a seq.
Without a Redis server the Redis half is skipped and named (a failure in CI).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis
from tests.conftest import missing_service

from threadline.ports import Delivery
from threadline.realtime.memory import MemoryBroker
from threadline.realtime.redis_broker import RedisBroker

REDIS_URL = os.environ.get("THREADLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2) as r:
            r.ping()
    except redis.RedisError as exc:
        missing_service("Redis", f"{REDIS_URL}: {exc}")
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Any:
    prefix = f"tltest:{uuid.uuid4().hex[:12]}:"
    yield prefix
    with redis.Redis.from_url(redis_url) as r:
        keys = list(r.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            r.delete(*keys)


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_broker(
    backend: str, request: pytest.FixtureRequest
) -> AsyncIterator[Callable[..., Any]]:
    """Builds started brokers on the backend; Redis ones share one key prefix."""
    made: list[Any] = []
    prefix = request.getfixturevalue("redis_prefix") if backend == "redis" else ""
    url = request.getfixturevalue("redis_url") if backend == "redis" else ""

    async def make(**options: Any) -> Any:
        broker = (
            RedisBroker(url, prefix=prefix, **options)
            if backend == "redis"
            else MemoryBroker(**options)
        )
        made.append(broker)
        await broker.start()
        return broker

    yield make
    for broker in made:
        await broker.aclose()


async def take(deliveries: Any, n: int, timeout: float = 5.0) -> list[Delivery]:
    """The next ``n`` deliveries, or fail after ``timeout`` seconds."""
    got: list[Delivery] = []
    async with asyncio.timeout(timeout):
        while len(got) < n:
            got.append(await anext(deliveries))
    return got


async def nothing_more(deliveries: Any, wait: float = 0.2) -> None:
    try:
        async with asyncio.timeout(wait):
            extra = await anext(deliveries)
    except TimeoutError:
        return
    pytest.fail(f"unexpected delivery {extra}")
