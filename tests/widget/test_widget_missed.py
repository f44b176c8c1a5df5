"""The missed-chat alert: a chat nobody answered within its target (a minute)
mails the agents who can answer it, once per wait, and nobody else."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.factories import make_agent, make_email_inbox, make_team, timeline
from tests.support.servers import Relay
from tests.support.widget import relay_senders, visitor_socket
from tests.widget.conftest import Widget
from tests.widget.test_widget_socket import agent_reply, conversation_of, visitor_key

from threadline.actions.users import deactivate_user
from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.storage.tables import conversations

pytestmark = pytest.mark.anyio

TARGET = 61  # seconds: past the chat's first-response target (core/sla.py)


@pytest.fixture
def senders(relay: tuple[Relay, int]) -> dict[str, Any]:
    return relay_senders(relay)


async def the_team(c: Container, w: Widget) -> None:
    """Who is who: the fixture's admin (ana) sees everything; carol works the chat
    inbox, bob only email; vic only reads; dan has left."""
    email_inbox = await make_email_inbox(c)
    bob, _ = await make_agent(c, "bob@acme.test", role="agent")
    carol, _ = await make_agent(c, "carol@acme.test", role="agent")
    await make_agent(c, "vic@acme.test", role="viewer")
    await make_agent(c, "dan@acme.test", role="agent")
    await c.bus.execute(lambda tx: deactivate_user(tx, email="dan@acme.test", actor="test"))
    await make_team(c, "Email", members=[bob], inboxes=[email_inbox], restrict=[bob])
    await make_team(c, "Chat", members=[carol], inboxes=[w.inbox_id], restrict=[carol])


def recipients(mailbox: Relay) -> list[str]:
    return sorted(r for _, rcpts, _ in mailbox.received for r in rcpts)


async def test_an_unanswered_chat_alerts_the_agents_who_see_it_once_per_wait(
    container: Container, widget: Widget, clock: FakeClock, relay: tuple[Relay, int]
) -> None:
    c, (mailbox, _) = container, relay
    await the_team(c, widget)
    async with visitor_socket(widget.url, widget.key) as s:
        await s.send(type="profile", name="Lena Park")
        await s.message("missed-chat-0000001", "My parcel never came.\nOrder 4417.\nHelp!\nPlease")
        await s.events(1)
        conversation_id = await conversation_of(c, await visitor_key(c, s))
        clock.advance(seconds=30)
        await c.runner.run_due()
        assert mailbox.received == []  # not due yet
        clock.advance(seconds=TARGET - 30)
        await c.runner.run_due()
        assert recipients(mailbox) == ["ana@acme.test", "carol@acme.test"]
        alert = mailbox.parsed(0)
        assert alert["Subject"] == f"Missed chat from Lena Park [#{conversation_id}]"
        assert alert["From"].addresses[0].addr_spec == "support@acme.test"
        assert alert["Auto-Submitted"] == "auto-replied"  # no out-of-office answers it
        body = alert.get_body(("plain",)).get_content().replace("\r\n", "\n")
        assert "> My parcel never came.\n> Order 4417.\n> Help!\n> …" in body
        assert f"{widget.url}/conversations/{conversation_id}" in body
        # The visitor writes again in the same wait: no second alert.
        await s.message("missed-chat-0000002", "hello?")
        clock.advance(seconds=600)
        await c.runner.run_due()
        assert len(mailbox.received) == 2
        # An agent answers; a new wait that goes unanswered alerts again.
        await agent_reply(c, widget, conversation_id, "Sorry! Looking now.")
        await s.message("missed-chat-0000003", "any news?")
        clock.advance(seconds=TARGET)
        await c.runner.run_due()
    assert len(mailbox.received) == 4
    customer_id = await c.db.read(
        lambda conn: conn.execute(
            sa.select(conversations.c.customer_id).where(conversations.c.id == conversation_id)
        ).scalar_one()
    )
    alerts = [e for e in await timeline(c, customer_id) if e["kind"] == "chat_missed"]
    assert len(alerts) == 2


async def test_a_chat_answered_in_time_alerts_nobody(
    container: Container, widget: Widget, clock: FakeClock, relay: tuple[Relay, int]
) -> None:
    c, (mailbox, _) = container, relay
    await the_team(c, widget)
    async with visitor_socket(widget.url, widget.key) as s:
        await s.message("missed-chat-0000011", "quick question")
        await s.events(1)
        conversation_id = await conversation_of(c, await visitor_key(c, s))
    clock.advance(seconds=30)
    await agent_reply(c, widget, conversation_id, "Ask away!")
    clock.advance(seconds=TARGET)
    await c.runner.run_due()
    assert mailbox.received == []
