"""What actions push, read off the container's broker as the web hub reads it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from tests.realtime.conftest import take
from tests.support.factories import (
    deliver_api,
    deliver_email,
    make_api_inbox,
    make_email,
    make_email_inbox,
)

from threadline.actions.conversations import update_conversation
from threadline.actions.customers import merge_customers, unmerge_customers
from threadline.actions.delivery import set_delivery_status
from threadline.actions.errors import ActionError
from threadline.actions.replies import send_reply
from threadline.actions.timeline import add_entry
from threadline.bootstrap import bootstrap
from threadline.core.model import ConversationStatus, DeliveryStatus
from threadline.realtime.memory import MemoryBroker
from threadline.realtime.presence import MemoryPresence
from threadline.realtime.redis_broker import RedisBroker
from threadline.realtime.redis_presence import RedisPresence
from threadline.storage.db import Tx
from threadline.storage.tables import timeline_entries

pytestmark = pytest.mark.anyio


async def pushed(deliveries: Any) -> list[tuple[str, dict[str, Any]]]:
    """Everything pushed so far (the memory broker fans out before publish returns)."""
    got = []
    while True:
        try:
            async with asyncio.timeout(0.05):
                delivery = await anext(deliveries)
        except TimeoutError:
            return got
        got.append((delivery.topic, dict(delivery.data)))


async def test_an_inbound_message_pushes_its_entry_and_inbox_row(container: Any) -> None:
    c = container
    inbox = await make_api_inbox(c)
    async with c.broker.listen() as deliveries:
        out = await deliver_api(
            c, inbox, {"id": "m1", "customer": {"external_id": "u1"}, "text": "hello"}
        )
        got = await pushed(deliveries)
    entry_id = await c.db.read(
        lambda conn: conn.execute(sa.select(sa.func.max(timeline_entries.c.id))).scalar_one()
    )
    entry = {
        "type": "entry",
        "entry_id": entry_id,
        "conversation_id": out.conversation_id,
        "customer_id": out.customer_id,
        "changed": False,
    }
    assert got == [
        (f"conversation:{out.conversation_id}", entry),
        (f"customer:{out.customer_id}", entry),
        (
            "inbox",
            {
                "type": "row",
                "conversation_id": out.conversation_id,
                "new_conversation": True,
                "changes": ["message", "triage"],
            },
        ),
    ]
    async with c.broker.listen() as deliveries:
        await deliver_api(c, inbox, {"id": "m2", "customer": {"external_id": "u1"}, "text": "?"})
        rows = [data for topic, data in await pushed(deliveries) if topic == "inbox"]
    assert [r["new_conversation"] for r in rows] == [False]


async def test_a_conversation_change_pushes_a_row_with_what_changed(container: Any) -> None:
    c = container
    inbox = await make_api_inbox(c)
    out = await deliver_api(c, inbox, {"id": "m1", "customer": {"external_id": "u1"}, "text": "hi"})
    async with c.broker.listen() as deliveries:
        await c.bus.execute(
            lambda tx: update_conversation(
                tx,
                out.conversation_id,
                actor_id=None,
                status=ConversationStatus.RESOLVED,
                priority="high",
            )
        )
        got = await pushed(deliveries)
    rows = [data for topic, data in got if topic == "inbox"]
    assert rows == [
        {
            "type": "row",
            "conversation_id": out.conversation_id,
            "new_conversation": False,
            "changes": ["status", "priority"],
        }
    ]
    # The entries the change wrote reach the conversation's page too.
    topics = {topic for topic, data in got if data["type"] == "entry"}
    assert topics == {f"conversation:{out.conversation_id}", f"customer:{out.customer_id}"}


async def test_a_delivery_status_pushes_to_the_conversation(container: Any) -> None:
    c = container
    inbox = await make_email_inbox(c)
    raw, _ = make_email()
    out = await deliver_email(c, inbox, raw)
    reply = await c.bus.execute(
        lambda tx: send_reply(
            tx, c.bus.cfg, conversation_id=out.conversation_id, author_id=None, text="On it"
        )
    )
    async with c.broker.listen() as deliveries:
        await c.bus.execute(
            lambda tx: set_delivery_status(
                tx, reply.message_id, DeliveryStatus.FAILED, error="mailbox full"
            )
        )
        got = await pushed(deliveries)
    statuses = [(topic, data) for topic, data in got if data["type"] == "status"]
    assert statuses == [
        (
            f"conversation:{out.conversation_id}",
            {
                "type": "status",
                "message_id": reply.message_id,
                "conversation_id": out.conversation_id,
                "status": "failed",
                "error": "mailbox full",
            },
        )
    ]


async def test_a_merge_and_its_undo_push_to_both_customers(container: Any) -> None:
    c = container
    inbox = await make_api_inbox(c)
    ana = await deliver_api(c, inbox, {"id": "a", "customer": {"external_id": "ana"}, "text": "1"})
    ben = await deliver_api(c, inbox, {"id": "b", "customer": {"external_id": "ben"}, "text": "2"})
    source, target = ben.customer_id, ana.customer_id
    async with c.broker.listen() as deliveries:
        merge_id = await c.bus.execute(
            lambda tx: merge_customers(tx, source_id=source, target_id=target, actor="test")
        )
        await c.bus.execute(lambda tx: unmerge_customers(tx, merge_id=merge_id, actor="test"))
        got = await pushed(deliveries)
    customer_events = [(topic, data) for topic, data in got if data["type"] == "customer"]
    assert customer_events == [
        (f"customer:{source}", {"type": "customer", "customer_id": source, "undone": False}),
        (f"customer:{target}", {"type": "customer", "customer_id": target, "undone": False}),
        (f"customer:{source}", {"type": "customer", "customer_id": source, "undone": True}),
        (f"customer:{target}", {"type": "customer", "customer_id": target, "undone": True}),
    ]


async def test_nothing_is_pushed_for_work_that_rolled_back(container: Any) -> None:
    c = container
    inbox = await make_api_inbox(c)
    out = await deliver_api(c, inbox, {"id": "m1", "customer": {"external_id": "u1"}, "text": "hi"})

    def note_then_fail(tx: Tx) -> None:
        add_entry(tx, customer_id=out.customer_id, conversation_id=out.conversation_id, kind="note")
        raise ActionError("refused after writing")

    async with c.broker.listen() as deliveries:
        with pytest.raises(ActionError):
            await c.bus.execute(note_then_fail)
        assert await pushed(deliveries) == []


async def test_a_pushed_entry_is_already_committed(container: Any) -> None:
    """The hub renders from the database the moment an event arrives: it must be there."""
    c = container
    inbox = await make_api_inbox(c)
    async with c.broker.listen() as deliveries:
        task = asyncio.create_task(
            deliver_api(c, inbox, {"id": "m1", "customer": {"external_id": "u1"}, "text": "hi"})
        )
        async with asyncio.timeout(10):
            first = await anext(deliveries)
        # Read before the action's caller has even resumed.
        found = await c.db.read(
            lambda conn: conn.execute(
                sa.select(timeline_entries.c.id).where(
                    timeline_entries.c.id == first.data["entry_id"]
                )
            ).first()
        )
        await task
    assert found is not None


async def test_bootstrap_picks_redis_when_a_redis_url_is_set(settings: Any, redis_url: str) -> None:
    embedded = bootstrap(settings)
    scaled = bootstrap(settings.model_copy(update={"redis_url": redis_url}))
    try:
        assert isinstance(embedded.broker, MemoryBroker)
        assert isinstance(embedded.presence, MemoryPresence)
        assert isinstance(scaled.broker, RedisBroker)
        assert isinstance(scaled.presence, RedisPresence)
    finally:
        await embedded.aclose()
        await scaled.aclose()


async def test_pushes_travel_through_redis_when_scaled(
    settings: Any, clock: Any, redis_url: str, redis_prefix: str
) -> None:
    c = bootstrap(settings, clock=clock, broker=RedisBroker(redis_url, prefix=redis_prefix))
    await c.start(jobs=False)
    try:
        inbox = await make_api_inbox(c)
        async with c.broker.listen() as deliveries:
            out = await deliver_api(
                c, inbox, {"id": "m1", "customer": {"external_id": "u1"}, "text": "hello"}
            )
            got = await take(deliveries, 3)
    finally:
        await c.aclose()
    assert [d.topic for d in got] == [
        f"conversation:{out.conversation_id}",
        f"customer:{out.customer_id}",
        "inbox",
    ]
    assert got[2].data["new_conversation"] is True
