"""What only the Redis broker promises: one seq order across processes, and no
delivery lost to a dropped connection while the history still holds it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis
from tests.realtime.conftest import nothing_more, take
from tests.realtime.proxy import Proxy

from threadline.ports import Lagged
from threadline.realtime.redis_broker import RedisBroker

pytestmark = pytest.mark.anyio


@pytest.fixture
async def brokers(redis_url: str, redis_prefix: str) -> AsyncIterator[Callable[..., Any]]:
    """Started RedisBrokers on one prefix: each stands for one server process."""
    made: list[RedisBroker] = []

    async def make(**options: Any) -> RedisBroker:
        broker = RedisBroker(redis_url, prefix=redis_prefix, **options)
        made.append(broker)
        await broker.start()
        return broker

    yield make
    for broker in made:
        await broker.aclose()


def publish_elsewhere(url: str, prefix: str, count: int, **options: Any) -> list[int]:
    """Publish from another thread and event loop, as another process would.

    Called without awaiting, it blocks this test's loop: the broker under test
    cannot read or reconnect until every publish is done.
    """

    async def run() -> list[int]:
        other = RedisBroker(url, prefix=prefix, **options)
        try:
            return [await other.publish("inbox", {"n": n}) for n in range(count)]
        finally:
            await other.aclose()

    result: list[list[int]] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(run())))
    thread.start()
    thread.join()
    return result[0]


def kill_subscription(url: str, broker: RedisBroker) -> None:
    """CLIENT KILL the broker's pub/sub connection (and only that one)."""
    with redis.Redis.from_url(url) as r:
        ids = [
            c["id"]
            for c in r.client_list()
            if c["name"] == broker.client_name and int(c.get("sub", 0)) > 0
        ]
        assert len(ids) == 1, "one subscription per broker"
        r.client_kill_filter(_id=ids[0])


async def test_two_processes_see_each_others_publishes_in_one_order(brokers: Any) -> None:
    one, two = await brokers(), await brokers()
    async with one.listen() as at_one, two.listen() as at_two:
        seqs = await asyncio.gather(
            *(b.publish("inbox", {"from": i % 2}) for i, b in enumerate([one, two] * 10))
        )
        got_one = await take(at_one, 20)
        got_two = await take(at_two, 20)
    assert [d.seq for d in got_one] == [d.seq for d in got_two] == sorted(seqs)
    assert got_one == got_two
    assert {d.data["from"] for d in got_one} == {0, 1}
    assert await one.last_seq() == await two.last_seq() == max(seqs)


async def test_publishes_while_the_subscription_was_cut_come_from_the_history(
    brokers: Any, redis_url: str, redis_prefix: str
) -> None:
    broker = await brokers()
    async with broker.listen() as deliveries:
        kill_subscription(redis_url, broker)
        missed = publish_elsewhere(redis_url, redis_prefix, 5)
        # No later publish prompts it: the catch-up after resubscribing must.
        assert [d.seq for d in await take(deliveries, 5)] == missed
        await nothing_more(deliveries)
        after = await broker.publish("inbox", {"n": "after"})
        assert [d.seq for d in await take(deliveries, 1)] == [after]
    assert after == missed[-1] + 1


async def test_a_cut_longer_than_the_history_makes_listeners_resync(
    brokers: Any, redis_url: str, redis_prefix: str
) -> None:
    broker = await brokers(history=3)
    start = await broker.last_seq()
    async with broker.listen() as deliveries:
        kill_subscription(redis_url, broker)
        publish_elsewhere(redis_url, redis_prefix, 6, history=3)
        with pytest.raises(Lagged) as lagged:
            await take(deliveries, 1)
    assert lagged.value.after == start
    assert await broker.replay(start, 100) is None
    async with broker.listen() as again:  # a new listener starts from now
        seq = await broker.publish("inbox", {"n": 7})
        assert [d.seq for d in await take(again, 1)] == [seq]


async def test_a_wiped_redis_never_reuses_a_seq_a_tab_remembers(
    brokers: Any, redis_url: str, redis_prefix: str
) -> None:
    broker = await brokers()
    old = await broker.publish("inbox", {"n": 1})
    with redis.Redis.from_url(redis_url) as r:
        r.delete(*r.scan_iter(match=f"{redis_prefix}*"))
    assert await broker.replay(old, 10) is None  # the tab resyncs
    assert await broker.publish("inbox", {"n": 2}) > old


async def test_listening_starts_the_subscription_first(redis_url: str, redis_prefix: str) -> None:
    broker = RedisBroker(redis_url, prefix=redis_prefix)
    try:
        async with broker.listen() as deliveries:
            seq = await broker.publish("inbox", {"n": 1})
            assert [d.seq for d in await take(deliveries, 1)] == [seq]
    finally:
        await broker.aclose()
    async with broker.listen() as deliveries:  # closed stays closed
        assert [d async for d in deliveries] == []


async def test_an_outage_longer_than_a_reconnect_loses_nothing(
    brokers: Any, redis_url: str, redis_prefix: str
) -> None:
    proxy = Proxy(redis_url)
    await proxy.up()
    behind_proxy = RedisBroker(proxy.url, prefix=redis_prefix)
    await behind_proxy.start()
    direct = await brokers()
    try:
        async with behind_proxy.listen() as deliveries:
            await proxy.down()
            # Publishing through a Redis it cannot reach fails fast, for the handlers' sake.
            started = asyncio.get_running_loop().time()
            with pytest.raises(redis.RedisError):
                await behind_proxy.publish("inbox", {"lost": True})
            assert asyncio.get_running_loop().time() - started < 5
            missed = [await direct.publish("inbox", {"n": n}) for n in range(3)]
            await asyncio.sleep(0.5)  # the pump has given up on redis-py's reconnects
            await proxy.up()
            assert [d.seq for d in await take(deliveries, 3, timeout=10)] == missed
            await nothing_more(deliveries)
    finally:
        await behind_proxy.aclose()
        await proxy.down()
