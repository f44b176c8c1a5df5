"""Replies out through the Graph API (our sandbox on a real uvicorn), status
callbacks back in, the WhatsApp 24-hour window, and Graph errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.channels.meta.support import (
    ACCESS_TOKEN,
    IGSID,
    PAGE_ID,
    PHONE_NUMBER_ID,
    PSID,
    WA_ID,
    FakeGraph,
    fixture,
    make_meta_inbox,
    post_meta,
    raw,
)
from tests.support.factories import api_client, make_agent, timeline

from threadline.actions.replies import TemplateRef, send_reply
from threadline.bootstrap import Container
from threadline.channels.meta.send import InstagramSender, WhatsAppSender
from threadline.channels.registry import SenderContext
from threadline.clock import FakeClock
from threadline.core.model import Channel, DeliveryError, OutboundMessage
from threadline.ports import Inbox
from threadline.storage.tables import conversations, messages, sandbox_outbox

pytestmark = pytest.mark.anyio

STATUS_WAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI3MzRCRjNCMTk5OTJGRTJDQTYA"
FAILED_WAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QjM0RDNFN0YzRDBBNzE3MzkA"
DELIVERY_MID = "mid.1458668856218:ed81099e15d3f4f233"


async def one(c: Container, query: Any) -> Any:
    return await c.db.read(lambda conn: conn.execute(query).one())


async def inbound(c: Container, name: str) -> Any:
    """A customer writes (delivered as Meta would); returns their conversation."""
    async with api_client(c) as client:
        r = await post_meta(client, fixture(name))
        assert r.status_code == 200, r.text
    return await one(c, sa.select(conversations))


async def reply(c: Container, conversation_id: int, text: str, **kw: Any) -> int:
    result = await c.bus.execute(
        lambda tx: send_reply(
            tx, c.bus.cfg, conversation_id=conversation_id, author_id=None, text=text, **kw
        )
    )
    return result.message_id


def with_ids(name: str, mapping: dict[str, str]) -> bytes:
    body = raw(fixture(name))
    for old, new in mapping.items():
        body = body.replace(old.encode(), new.encode())
    return body


async def test_whatsapp_reply_then_statuses_sent_delivered_read(
    container: Container, served: str
) -> None:
    c = container
    await make_meta_inbox(c, "whatsapp")
    conv = await inbound(c, "whatsapp_text")
    message_id = await reply(c, conv.id, "Yes! It comes in blue and red.")
    assert await c.runner.run_due() == 1

    out = await one(c, sa.select(sandbox_outbox))
    assert out.request == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "text",
        "text": {"body": "Yes! It comes in blue and red.", "preview_url": False},
    }
    assert (out.provider, out.recipient) == ("meta", WA_ID)
    sent = await one(c, sa.select(messages).where(messages.c.id == message_id))
    assert sent.status == "sent"
    assert sent.provider_message_id == out.provider_message_id
    assert sent.provider_message_id.startswith("wamid.")

    statuses = fixture("whatsapp_statuses")
    value = statuses["entry"][0]["changes"][0]["value"]
    all_statuses = value["statuses"]
    async with api_client(c) as client:
        for status, expected in zip(all_statuses[:3], ["sent", "delivered", "read"], strict=True):
            value["statuses"] = [{**status, "id": sent.provider_message_id}]
            assert (await post_meta(client, statuses)).status_code == 200
            now = await one(c, sa.select(messages.c.status).where(messages.c.id == message_id))
            assert now.status == expected
        # Meta's retry of the whole batch changes nothing.
        r = await post_meta(
            client, with_ids("whatsapp_statuses", {STATUS_WAMID: sent.provider_message_id})
        )
        assert r.json()["statuses"][:3] == ["duplicate", "duplicate", "duplicate"]
    final = await one(c, sa.select(messages).where(messages.c.id == message_id))
    assert (final.status, final.error) == ("read", None)


async def test_failed_status_shows_the_reason_on_the_timeline(
    container: Container, served: str
) -> None:
    c = container
    await make_meta_inbox(c, "whatsapp")
    conv = await inbound(c, "whatsapp_text")
    message_id = await reply(c, conv.id, "Your order ships tomorrow.")
    await c.runner.run_due()
    sent = await one(c, sa.select(messages).where(messages.c.id == message_id))
    async with api_client(c) as client:
        body = with_ids("whatsapp_statuses", {FAILED_WAMID: sent.provider_message_id})
        assert (await post_meta(client, body)).status_code == 200
    failed = await one(c, sa.select(messages).where(messages.c.id == message_id))
    assert failed.status == "failed"
    entries = await timeline(c, conv.customer_id)
    [entry] = [e for e in entries if e["kind"] == "delivery_failed"]
    assert entry["message"]["id"] == message_id
    assert "more than 24 hours have passed" in entry["data"]["error"]
    assert "131047" in entry["data"]["error"]


async def test_whatsapp_outside_the_window_needs_a_template(
    container: Container, clock: FakeClock, served: str
) -> None:
    c = container
    await make_meta_inbox(c, "whatsapp")
    _, token = await make_agent(c)
    conv = await inbound(c, "whatsapp_text")
    clock.advance(hours=25)
    # The first response's SLA warning and breach, and the 24-hour resolution's
    assert await c.runner.run_due() == 4
    headers = {"Authorization": f"Bearer {token}"}
    async with api_client(c) as client:
        refused = await client.post(
            f"/api/v1/conversations/{conv.id}/replies",
            json={"text": "Your order #4417 has shipped"},
            headers=headers,
        )
        assert refused.status_code == 422
        assert "only an approved template can be sent" in refused.json()["detail"]
    assert await c.runner.run_due() == 0

    message_id = await reply(
        c,
        conv.id,
        "Your order #4417 has shipped",
        template=TemplateRef(name="order_update", language="en", parameters=("4417",)),
    )
    assert await c.runner.run_due() == 1
    out = await one(c, sa.select(sandbox_outbox))
    assert out.request == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "template",
        "template": {
            "name": "order_update",
            "language": {"code": "en"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "4417"}]}],
        },
    }
    sent = await one(c, sa.select(messages).where(messages.c.id == message_id))
    assert (sent.status, sent.provider_message_id) == ("sent", out.provider_message_id)

    # The REST API takes the same template.
    async with api_client(c) as client:
        r = await client.post(
            f"/api/v1/conversations/{conv.id}/replies",
            json={
                "text": "Delivered today",
                "template": {"name": "order_update", "parameters": ["4418"]},
            },
            headers=headers,
        )
        assert r.status_code == 202, r.text
    assert await c.runner.run_due() == 1
    outbox = await c.db.read(
        lambda conn: conn.execute(sa.select(sandbox_outbox).order_by(sandbox_outbox.c.id)).all()
    )
    assert outbox[-1].request["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "4418"}
    ]


async def test_messenger_reply_and_delivery(container: Container, served: str) -> None:
    c = container
    await make_meta_inbox(c, "messenger")
    conv = await inbound(c, "messenger_text")
    message_id = await reply(c, conv.id, "hello, world")
    assert await c.runner.run_due() == 1
    out = await one(c, sa.select(sandbox_outbox))
    assert out.request == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "hello, world"},
    }
    sent = await one(c, sa.select(messages).where(messages.c.id == message_id))
    assert sent.status == "sent"
    assert sent.provider_message_id == out.provider_message_id
    assert sent.provider_message_id.startswith("m_")
    async with api_client(c) as client:
        body = with_ids("messenger_delivery", {DELIVERY_MID: sent.provider_message_id})
        assert (await post_meta(client, body)).status_code == 200
    delivered = await one(c, sa.select(messages.c.status).where(messages.c.id == message_id))
    assert delivered.status == "delivered"


async def test_senders_speak_graph_to_the_sandbox(container: Container, served: str) -> None:
    """The senders on their own, against the sandbox on a real port."""
    context = SenderContext(http=container.http, sandbox_base=f"{served}/sandbox")
    # The sandbox takes the access token of one of our sandbox inboxes.
    wa_inbox = await container.bus.inbox(await make_meta_inbox(container, "whatsapp"))
    wamid = await WhatsAppSender(context).send(wa_inbox, outbound(Channel.WHATSAPP, WA_ID, "Hi"))
    ig_inbox = await container.bus.inbox(await make_meta_inbox(container, "instagram"))
    mid = await InstagramSender(context).send(ig_inbox, outbound(Channel.INSTAGRAM, IGSID, "Hey"))
    rows = await container.db.read(
        lambda conn: conn.execute(sa.select(sandbox_outbox).order_by(sandbox_outbox.c.id)).all()
    )
    assert [(r.provider_message_id, r.recipient, r.text) for r in rows] == [
        (wamid, WA_ID, "Hi"),
        (mid, IGSID, "Hey"),
    ]


def outbound(channel: Channel, recipient: str, text: str) -> OutboundMessage:
    return OutboundMessage(
        message_id=1, conversation_id=1, channel=channel, recipient=recipient, text=text
    )


async def test_sandbox_answers_like_graph(container: Container) -> None:
    url = f"/sandbox/meta/v26.0/{PHONE_NUMBER_ID}/messages"
    auth = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
    await make_meta_inbox(container)
    async with api_client(container) as client:
        no_to = await client.post(
            url,
            json={"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}},
            headers=auth,
        )
        assert no_to.status_code == 400
        assert no_to.json()["error"]["code"] == 100
        assert no_to.json()["error"]["message"] == "(#100) The parameter to is required."
        assert no_to.json()["error"]["type"] == "OAuthException"
        no_recipient = await client.post(
            f"/sandbox/meta/v25.0/{PSID}/messages", json={"message": {"text": "x"}}, headers=auth
        )
        assert no_recipient.json()["error"]["code"] == 100
        unauthenticated = await client.post(
            url, json={"messaging_product": "whatsapp", "to": WA_ID, "text": {"body": "x"}}
        )
        assert unauthenticated.status_code == 400
        assert unauthenticated.json()["error"]["code"] == 104
    assert await container.db.read(lambda conn: conn.execute(sa.select(sandbox_outbox)).all()) == []


def graph_error(code: int, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "AzWdbxu8bL1Yx5SkpCPL7ez",
            **extra,
        }
    }


@pytest.mark.parametrize(
    ("status", "payload", "permanent", "words"),
    [
        (
            400,
            graph_error(
                131047,
                "(#131047) Re-engagement message",
                error_data={
                    "messaging_product": "whatsapp",
                    "details": "Message failed to send because more than 24 hours have passed "
                    "since the customer last replied to this number.",
                },
            ),
            True,
            "more than 24 hours have passed",
        ),
        (400, graph_error(131026, "(#131026) Message Undeliverable."), True, "Undeliverable"),
        (
            403,
            graph_error(10, "(#10) Application does not have permission for this action"),
            True,
            "permission",
        ),
        (429, graph_error(130429, "(#130429) Rate limit hit"), False, "Rate limit hit"),
        (
            400,
            graph_error(80007, "(#80007) There have been too many calls"),
            False,
            "too many calls",
        ),
        (400, graph_error(4, "(#4) Application request limit reached"), False, "limit reached"),
        (503, {}, False, "HTTP 503"),
    ],
)
async def test_graph_errors_are_permanent_or_retried(
    graph: tuple[FakeGraph, str], status: int, payload: dict[str, Any], permanent: bool, words: str
) -> None:
    fake, url = graph
    fake.answer = (status, payload)
    inbox = Inbox(
        1, "whatsapp", "Acme", PHONE_NUMBER_ID, {"api_base": url, "access_token": ACCESS_TOKEN}
    )
    async with httpx.AsyncClient() as http:
        sender = WhatsAppSender(SenderContext(http=http, sandbox_base="http://unused"))
        with pytest.raises(DeliveryError) as caught:
            await sender.send(inbox, outbound(Channel.WHATSAPP, WA_ID, "Hi"))
    assert caught.value.permanent is permanent
    assert words in caught.value.reason
    [(path, headers, _)] = fake.requests
    assert path == f"/v26.0/{PHONE_NUMBER_ID}/messages"
    assert headers["authorization"] == f"Bearer {ACCESS_TOKEN}"


async def test_a_graph_400_fails_the_reply_visibly(
    container: Container, graph: tuple[FakeGraph, str]
) -> None:
    c = container
    fake, url = graph
    fake.answer = (
        400,
        graph_error(100, "(#100) No matching user found", error_subcode=2018001),
    )
    await make_meta_inbox(c, "messenger", sandbox=False, api_base=url)
    conv = await inbound(c, "messenger_text")
    message_id = await reply(c, conv.id, "hello?")
    assert await c.runner.run_due() == 1
    failed = await one(c, sa.select(messages).where(messages.c.id == message_id))
    assert failed.status == "failed"
    assert "(#100) No matching user found" in failed.error
    assert "2018001" in failed.error
    [(path, _, body)] = fake.requests
    assert path == f"/v25.0/{PAGE_ID}/messages"
    assert body["recipient"] == {"id": PSID}
    kinds = [e["kind"] for e in await timeline(c, conv.customer_id)]
    assert "delivery_failed" in kinds
