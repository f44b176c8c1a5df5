"""The visitor fan-out across processes: with the Redis broker (the scaled setup), a
reply stored by one process reaches a visitor's socket held by another."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis
from tests.conftest import missing_service
from tests.support.factories import make_agent, make_inbox
from tests.support.servers import serving
from tests.support.widget import ORIGIN, visitor_socket
from tests.widget.test_widget_socket import conversation_of, visitor_key

from threadline.actions.replies import send_reply
from threadline.bootstrap import Container, bootstrap
from threadline.clock import FakeClock
from threadline.core.model import Channel
from threadline.realtime.redis_broker import RedisBroker
from threadline.realtime.redis_presence import RedisPresence
from threadline.settings import Settings
from threadline.web.app import create_app

pytestmark = pytest.mark.anyio

REDIS_URL = os.environ.get("THREADLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def prefix() -> Any:
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2) as r:
            r.ping()
    except redis.RedisError as exc:
        missing_service("Redis", f"{REDIS_URL}: {exc}")
    found = f"tltest:{uuid.uuid4().hex[:12]}:"
    yield found
    with redis.Redis.from_url(REDIS_URL) as r:
        keys = list(r.scan_iter(match=f"{found}*", count=1000))
        if keys:
            r.delete(*keys)


async def process(settings: Settings, clock: FakeClock, prefix: str) -> Container:
    c = bootstrap(
        settings,
        clock=clock,
        broker=RedisBroker(REDIS_URL, prefix=prefix),
        presence=RedisPresence(REDIS_URL, clock, prefix=prefix),
    )
    await c.start(jobs=False)
    return c


@pytest.fixture
async def two_processes(
    settings: Settings, clock: FakeClock, prefix: str
) -> AsyncIterator[tuple[Container, Container]]:
    a, b = await process(settings, clock, prefix), await process(settings, clock, prefix)
    yield a, b
    await a.aclose()
    await b.aclose()


async def test_a_reply_stored_by_another_process_reaches_the_visitor(
    two_processes: tuple[Container, Container], app_port: int
) -> None:
    web, worker = two_processes
    await make_inbox(web, "chat", "Acme chat", "chat_acme", {"allowed_origins": [ORIGIN]})
    agent_id, _ = await make_agent(worker, "ana@acme.test")
    app = create_app(web, manage_lifecycle=False)
    async with (
        serving(app, app_port, ws="websockets-sansio") as url,
        visitor_socket(url, "chat_acme") as s,
    ):
        await s.message("redis-message-0001", "hello from the page")
        await s.events(1)
        conversation_id = await conversation_of(web, await visitor_key(web, s))
        await worker.bus.reload_inboxes()
        await worker.bus.execute(
            lambda tx: send_reply(
                tx,
                worker.bus.cfg,
                conversation_id=conversation_id,
                author_id=agent_id,
                text="hello from the other process",
                channel=Channel.CHAT,
            )
        )
        [event] = await s.events(1)
    await app.state.widget.hub.stop()
    assert event["text"] == "hello from the other process"
    assert event["seq"] == 2
