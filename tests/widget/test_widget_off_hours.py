"""The off-hours acknowledgement in a live chat: in the visitor's transcript when
nobody who answers the chat is online, and not at all when someone is."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.support.hours import HOURS, berlin
from tests.support.widget import visitor_socket
from tests.widget.conftest import Widget

from threadline.actions.off_hours import set_off_hours_reply
from threadline.actions.sla_policies import set_inbox_calendar
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.storage.db import Tx
from threadline.storage.tables import auto_replies

pytestmark = pytest.mark.anyio


async def closed_with_reply(c: Container, w: Widget, clock: FakeClock) -> None:
    def configure(tx: Tx) -> None:
        set_inbox_calendar(tx, w.inbox_id, HOURS, actor="test")
        set_off_hours_reply(
            tx,
            w.inbox_id,
            {"enabled": True, "help_url": "https://help.acme.test/"},
            actor="test",
        )

    await c.bus.execute(configure)
    await c.bus.reload_inboxes()
    clock.set(berlin("2026-12-05 10:00"))  # Saturday


async def test_a_chat_off_hours_gets_the_acknowledgement_in_its_transcript(
    container: Container, widget: Widget, clock: FakeClock
) -> None:
    await closed_with_reply(container, widget, clock)
    async with visitor_socket(widget.url, widget.key) as s:
        assert s.welcome["expect"] == "We're back Monday 9:00; we'll reply by email"
        await s.message("offhours-msg-0001", "is anyone there?")
        [asked] = await s.events(1)
        await container.runner.run_due()  # the acknowledgement (a chat reply is sent when stored)
        [ack] = await s.events(1)
    assert asked["text"] == "is anyone there?"
    assert ack["from"] != "visitor"
    assert "we'll answer soon after we open, Monday 9:00" in ack["text"]
    assert "https://help.acme.test/" in ack["text"]


async def test_no_acknowledgement_while_an_agent_who_answers_the_chat_is_online(
    container: Container, widget: Widget, clock: FakeClock
) -> None:
    await closed_with_reply(container, widget, clock)
    assert await container.presence.beat(widget.agent_id, "tab-1", active=True) is not None
    async with visitor_socket(widget.url, widget.key) as s:
        await s.message("offhours-msg-0002", "working late?")
        await s.events(1)
        await container.runner.run_due()  # the acknowledgement (a chat reply is sent when stored)
        assert [f for f in await s.settle() if f["type"] == "event"] == []
    [row] = await container.db.read(lambda conn: conn.execute(sa.select(auto_replies)).all())
    assert (row.message_id, row.reason) == (None, "an agent who answers this chat is online")
