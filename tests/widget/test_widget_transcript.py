"""The chat transcript by email: asked for from the widget, sent from the
follow-up inbox through the real SMTP path, limited to one per 10 minutes, and
noted on the conversation for the agents (delivered or not)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from tests.support.factories import api_client, make_email_inbox, timeline
from tests.support.servers import Relay
from tests.support.ui import make_user, sign_in
from tests.support.widget import ChatSocket, relay_senders, visitor_socket
from tests.widget.conftest import Widget
from tests.widget.test_widget_socket import agent_reply, conversation_of, visitor_key

from threadline.bootstrap import Container
from threadline.clock import FakeClock
from threadline.storage.tables import chat_visitors, identities

pytestmark = pytest.mark.anyio

VISITOR = "lena@example.org"


@pytest.fixture
def senders(relay: tuple[Relay, int]) -> dict[str, Any]:
    return relay_senders(relay)


async def chatted(c: Container, w: Widget, s: ChatSocket) -> int:
    """Lena asks, an agent answers; returns the conversation."""
    await s.send(type="profile", name="Lena")
    await s.message("transcript-000000001", "I need <b>help</b>\nwith my order")
    await s.events(1)
    conversation_id = await conversation_of(c, await visitor_key(c, s))
    await agent_reply(c, w, conversation_id, "Sure, which one?")
    await s.events(1)
    return conversation_id


async def transcript_entries(c: Container, conversation_id: int) -> list[dict[str, Any]]:
    customer_id = await c.db.read(
        lambda conn: conn.execute(
            sa.select(chat_visitors.c.customer_id).where(
                chat_visitors.c.conversation_id == conversation_id
            )
        ).scalar_one()
    )
    return [e["data"] for e in await timeline(c, customer_id) if e["kind"] == "transcript_emailed"]


async def test_the_transcript_is_mailed_with_names_and_times_and_noted_for_agents(
    container: Container, widget: Widget, clock: FakeClock, relay: tuple[Relay, int]
) -> None:
    c, (mailbox, _) = container, relay
    await make_email_inbox(c)
    async with visitor_socket(widget.url, widget.key) as s:
        conversation_id = await chatted(c, widget, s)
        await s.send(type="transcript", email=VISITOR)
        assert await s.settle() == []  # accepted: no error frame
        key = await visitor_key(c, s)
    assert await transcript_entries(c, conversation_id) == [{"to": VISITOR, "status": "queued"}]
    await c.runner.run_due()
    [(_, rcpt, _)] = mailbox.received
    assert rcpt == [VISITOR]
    sent = mailbox.parsed(0)
    assert sent["From"].addresses[0].addr_spec == "support@acme.test"
    assert sent["Subject"] == f"Transcript of your chat with Acme Support [#{conversation_id}]"
    assert sent["Reply-To"].addresses[0].username.startswith("reply+")
    text = sent.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Lena, 2 Nov 2026, 09:00:\nI need <b>help</b>\nwith my order" in text
    assert "Sam Rivera, 2 Nov 2026, 09:00:\nSure, which one?" in text
    page = sent.get_body(("html",)).get_content().replace("\r\n", "\n")
    assert "I need &lt;b&gt;help&lt;/b&gt;<br>" in page
    assert "<b>help" not in page
    # The typed address is the visitor's claimed email now, on their customer record.
    customer_id = await c.db.read(
        lambda conn: conn.execute(
            sa.select(chat_visitors.c.customer_id).where(chat_visitors.c.key == key)
        ).scalar_one()
    )
    claimed = await c.db.read(
        lambda conn: conn.execute(
            sa.select(identities.c.value, identities.c.verified).where(
                identities.c.customer_id == customer_id, identities.c.kind == "email"
            )
        ).all()
    )
    assert [tuple(r) for r in claimed] == [(VISITOR, False)]
    # Agents see it on the conversation.
    assert await transcript_entries(c, conversation_id) == [{"to": VISITOR, "status": "sent"}]
    await make_user(c, "ada@acme.test")
    async with api_client(c) as web:
        await sign_in(web, "ada@acme.test")
        shown = (await web.get(f"/conversations/{conversation_id}")).text
    assert f"Transcript emailed to {VISITOR}" in shown


async def test_one_transcript_per_ten_minutes(
    container: Container, widget: Widget, clock: FakeClock, relay: tuple[Relay, int]
) -> None:
    c, (mailbox, _) = container, relay
    await make_email_inbox(c)
    async with visitor_socket(widget.url, widget.key) as s:
        conversation_id = await chatted(c, widget, s)
        await s.send(type="transcript", email=VISITOR)
        await s.send(type="transcript")
        refused = await s.next("error")
        clock.advance(minutes=10)
        await s.send(type="transcript")  # to the email it now knows
        assert await s.settle() == []
    assert refused["code"] == "rate_limited"
    await c.runner.run_due()
    assert [r for _, r, _ in mailbox.received] == [[VISITOR], [VISITOR]]
    assert len(await transcript_entries(c, conversation_id)) == 2


async def test_a_transcript_that_cannot_be_delivered_says_so_on_the_timeline(
    container: Container, widget: Widget, relay: tuple[Relay, int]
) -> None:
    c, (mailbox, _) = container, relay
    await make_email_inbox(c)
    mailbox.refuse = "550 5.1.1 no such mailbox"
    async with visitor_socket(widget.url, widget.key) as s:
        conversation_id = await chatted(c, widget, s)
        await s.send(type="transcript", email="nobody@example.org")
        await s.settle()
    await c.runner.run_due()
    [entry] = await transcript_entries(c, conversation_id)
    assert entry["status"] == "failed"
    assert "550" in entry["error"]


async def test_a_transcript_needs_a_chat_an_email_and_an_email_inbox(
    container: Container, widget: Widget
) -> None:
    async with visitor_socket(widget.url, widget.key) as s:
        await s.send(type="transcript", email=VISITOR)
        nothing_yet = await s.next("error")
        await chatted(container, widget, s)
        await s.send(type="transcript")
        no_email = await s.next("error")
        await s.send(type="transcript", email=VISITOR)
        no_inbox = await s.next("error")
    assert [e["code"] for e in (nothing_yet, no_email, no_inbox)] == ["invalid"] * 3
    assert nothing_yet["message"] == "there is no chat to send yet"
    assert no_email["message"] == "tell us your email address to get the transcript"
    assert no_inbox["message"] == "transcripts by email are not set up for this chat"
