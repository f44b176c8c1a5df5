"""One customer, one conversation: an email, then a text from the same person,
then the agent's answer by email."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from tests.channels.twilio_sms.support import ANA_PHONE, form, make_sms_inbox, post_form
from tests.support.factories import (
    api_client,
    deliver_email,
    make_email,
    make_email_inbox,
    timeline,
)
from tests.support.servers import Relay

from threadline.actions.customers import add_identity
from threadline.actions.replies import send_reply
from threadline.channels.email.adapter import SmtpRelay, SmtpSender
from threadline.core.identity import normalize
from threadline.core.model import Channel
from threadline.storage.tables import conversations, messages

pytestmark = pytest.mark.anyio


@pytest.fixture
def senders(relay: tuple[Relay, int]) -> dict[str, Any]:
    return {"email": SmtpSender(SmtpRelay(host="127.0.0.1", port=relay[1], starttls=False))}


async def test_text_from_a_known_customer_continues_the_email_and_is_answered_by_email(
    container: Any, relay: tuple[Relay, int]
) -> None:
    c, (relay_handler, _) = container, relay
    email_inbox = await make_email_inbox(c)
    raw, _ = make_email(sender="ana@example.com", body="Where is order #4417?")
    first = await deliver_email(c, email_inbox, raw)
    await c.bus.execute(
        lambda tx: add_identity(tx, first.customer_id, normalize("phone", ANA_PHONE))
    )
    await make_sms_inbox(c)

    async with api_client(c) as client:
        r = await post_form(
            client, "/webhooks/twilio/sms", form("inbound_sms", Body="Any news on my order?")
        )
    assert r.status_code == 200

    convs = await c.db.read(lambda conn: conn.execute(sa.select(conversations)).all())
    assert [conv.id for conv in convs] == [first.conversation_id]
    sms = await c.db.read(
        lambda conn: conn.execute(sa.select(messages).where(messages.c.channel == "sms")).one()
    )
    assert (sms.conversation_id, sms.customer_id) == (first.conversation_id, first.customer_id)

    reply = await c.bus.execute(
        lambda tx: send_reply(
            tx,
            c.bus.cfg,
            conversation_id=first.conversation_id,
            author_id=None,
            text="It left our warehouse this morning.",
            channel=Channel.EMAIL,
        )
    )
    assert reply.recipient == "ana@example.com"
    assert await c.runner.run_due() == 1
    assert relay_handler.received[-1][1] == ["ana@example.com"]
    sent = relay_handler.parsed()
    assert "It left our warehouse this morning." in sent.get_body(("plain",)).get_content()

    entries = await timeline(c, first.customer_id)
    assert [
        (e["kind"], e["message"] and e["message"]["channel"], e["conversation_id"])
        for e in entries
        if e["kind"] != "identity_added"
    ] == [
        ("message", "email", first.conversation_id),
        ("channel_switched", None, first.conversation_id),
        ("message", "sms", first.conversation_id),
        # the agent's answer on another channel is marked like the customer's switch
        ("channel_switched", None, first.conversation_id),
        ("message", "email", first.conversation_id),
    ]
    switches = [e["data"] for e in entries if e["kind"] == "channel_switched"]
    assert switches == [{"from": "email", "to": "sms"}, {"from": "sms", "to": "email"}]
    assert entries[-1]["message"]["status"] == "sent"
