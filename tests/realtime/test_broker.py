"""The broker contract, once over the memory broker and once over Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.realtime.conftest import nothing_more, take

from threadline.ports import Lagged

pytestmark = pytest.mark.anyio


async def test_seqs_strictly_increase_and_last_seq_is_the_newest(make_broker: Any) -> None:
    broker = await make_broker()
    before = await broker.last_seq()
    seqs = [await broker.publish("inbox", {"n": n}) for n in range(20)]
    assert seqs == sorted(set(seqs))
    assert seqs[0] > before
    assert await broker.last_seq() == seqs[-1]


async def test_a_listener_gets_every_publish_in_seq_order(make_broker: Any) -> None:
    broker = await make_broker()
    async with broker.listen() as deliveries:
        # Concurrent publishers: the listener still sees one gapless seq order.
        seqs = await asyncio.gather(
            *(broker.publish(f"conversation:{n % 3}", {"n": n}) for n in range(30))
        )
        got = await take(deliveries, 30)
        await nothing_more(deliveries)
    assert [d.seq for d in got] == sorted(seqs)
    assert [d.seq for d in got] == list(range(got[0].seq, got[0].seq + 30))
    by_seq = {seq: n for n, seq in enumerate(seqs)}
    assert all(d.data == {"n": by_seq[d.seq]} for d in got)
    assert all(d.topic == f"conversation:{d.data['n'] % 3}" for d in got)


async def test_data_arrives_as_json_whatever_was_published(make_broker: Any) -> None:
    broker = await make_broker()
    published = {"ids": (1, 2), "nested": {"ok": True, "none": None}}
    async with broker.listen() as deliveries:
        await broker.publish("inbox", published)
        [got] = await take(deliveries, 1)
    assert got.data == {"ids": [1, 2], "nested": {"ok": True, "none": None}}


async def test_every_listener_gets_its_own_copy(make_broker: Any) -> None:
    broker = await make_broker()
    async with broker.listen() as one, broker.listen() as two:
        seq = await broker.publish("inbox", {"type": "row"})
        [a] = await take(one, 1)
        [b] = await take(two, 1)
    assert a.seq == b.seq == seq
    assert a.data == b.data


async def test_replay_returns_what_came_after_a_seq_oldest_first(make_broker: Any) -> None:
    broker = await make_broker()
    seqs = [await broker.publish("inbox", {"n": n}) for n in range(10)]
    after_third = await broker.replay(seqs[2], 100)
    assert [d.seq for d in after_third] == seqs[3:]
    assert [d.data["n"] for d in after_third] == list(range(3, 10))
    assert await broker.replay(seqs[-1], 100) == []
    assert [d.seq for d in await broker.replay(seqs[0], 3)] == seqs[1:4]


async def test_replay_limit_is_capped_at_a_thousand(make_broker: Any) -> None:
    broker = await make_broker(history=2000)
    start = await broker.last_seq()
    for n in range(1005):
        await broker.publish("inbox", {"n": n})
    assert len(await broker.replay(start, 5000)) == 1000
    with pytest.raises(ValueError, match="at least 1"):
        await broker.replay(start, 0)


async def test_replay_says_none_outside_the_retained_history(make_broker: Any) -> None:
    broker = await make_broker(history=5)
    seqs = [await broker.publish("inbox", {"n": n}) for n in range(8)]
    # The history keeps the last five: seqs[3:] -- so resuming after seqs[2] works,
    assert [d.seq for d in await broker.replay(seqs[2], 100)] == seqs[3:]
    # but after seqs[1] one delivery is gone: the caller must resync.
    assert await broker.replay(seqs[1], 100) is None
    # A seq from the future (a wiped broker, a forged Last-Event-ID) is no resume point.
    assert await broker.replay(seqs[-1] + 1, 100) is None
    assert await broker.replay(-1, 100) is None


async def test_a_fresh_broker_can_resume_from_its_last_seq(make_broker: Any) -> None:
    broker = await make_broker()
    assert await broker.replay(await broker.last_seq(), 10) == []


async def test_a_slow_listener_is_told_it_lagged_instead_of_buffering(make_broker: Any) -> None:
    broker = await make_broker(listener_buffer=5)
    start = await broker.last_seq()
    async with broker.listen() as slow, broker.listen() as fast:
        seqs = [await broker.publish("inbox", {"n": n}) for n in range(5)]
        # The fast one drains as it goes; the slow one reads nothing yet.
        assert [d.seq for d in await take(fast, 5)] == seqs
        seqs += [await broker.publish("inbox", {"n": n}) for n in range(5, 10)]
        assert [d.seq for d in await take(fast, 5)] == seqs[5:]
        with pytest.raises(Lagged) as lagged:
            await take(slow, 1)
    # It had received nothing: it resumes from where it entered, from the history.
    assert lagged.value.after == start
    assert [d.seq for d in await broker.replay(lagged.value.after, 100)] == seqs
    async with broker.listen() as again:
        seq = await broker.publish("inbox", {"n": 10})
        assert [d.seq for d in await take(again, 1)] == [seq]


async def test_a_lagged_listener_reports_the_last_seq_it_received(make_broker: Any) -> None:
    broker = await make_broker(listener_buffer=3)
    async with broker.listen() as slow, broker.listen() as fast:
        first = await broker.publish("inbox", {"n": 0})
        await take(fast, 1)
        assert [d.seq for d in await take(slow, 1)] == [first]
        for n in range(1, 6):
            await broker.publish("inbox", {"n": n})
            await take(fast, 1)
        with pytest.raises(Lagged) as lagged:
            await take(slow, 1)
    assert lagged.value.after == first


async def test_oversized_payloads_and_bad_topics_are_refused(make_broker: Any) -> None:
    broker = await make_broker(max_payload=1024)
    before = await broker.last_seq()
    with pytest.raises(ValueError, match="exceeds the 1024-byte limit"):
        await broker.publish("inbox", {"text": "x" * 2000})
    with pytest.raises(ValueError, match="topic"):
        await broker.publish("", {"type": "row"})
    with pytest.raises(ValueError, match="topic"):
        await broker.publish("t" * 201, {"type": "row"})
    assert await broker.last_seq() == before  # nothing was stored or numbered
    assert await broker.publish("inbox", {"text": "x" * 900}) == before + 1


async def test_listeners_end_when_the_broker_closes(make_broker: Any) -> None:
    broker = await make_broker()
    async with broker.listen() as deliveries:
        await broker.aclose()
        async with asyncio.timeout(5):
            assert [d async for d in deliveries] == []
