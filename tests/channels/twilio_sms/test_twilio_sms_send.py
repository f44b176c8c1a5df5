"""SMS replies over real HTTP: SmsSender and Twilio's own SDK against our fake
Messages API (served by uvicorn), status callbacks back to our webhook, and
Twilio's error answers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import anyio.to_thread
import httpx
import pytest
import sqlalchemy as sa
from tests.channels.twilio_sms.support import (
    ACCOUNT_SID,
    ANA_PHONE,
    AUTH_TOKEN,
    OUR_NUMBER,
    ScriptedTwilio,
    form,
    make_sms_inbox,
    post_form,
    sign,
)
from tests.support.factories import api_client, timeline
from tests.support.servers import free_port, serving
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from threadline.actions.replies import send_reply
from threadline.channels.registry import SenderContext
from threadline.channels.twilio.send import SmsSender
from threadline.core.model import Channel, DeliveryError, OutboundMessage
from threadline.storage.tables import conversations, messages, sandbox_outbox

pytestmark = pytest.mark.anyio


def outbound(text: str = "Your parcel ships today.", to: str = ANA_PHONE) -> OutboundMessage:
    return OutboundMessage(
        message_id=1, conversation_id=1, channel=Channel.SMS, recipient=to, text=text
    )


async def outbox(c: Any) -> list[Any]:
    return await c.db.read(
        lambda conn: conn.execute(sa.select(sandbox_outbox).order_by(sandbox_outbox.c.id)).all()
    )


async def one(c: Any, query: Any) -> Any:
    return await c.db.read(lambda conn: conn.execute(query).one())


async def test_reply_goes_out_and_an_undelivered_callback_fails_it_visibly(
    container: Any, served: str
) -> None:
    c = container
    await make_sms_inbox(c)
    async with api_client(c) as client:
        await post_form(client, "/webhooks/twilio/sms", form("inbound_sms"))
    conv = await one(c, sa.select(conversations))
    await c.bus.execute(
        lambda tx: send_reply(
            tx, c.bus.cfg, conversation_id=conv.id, author_id=None, text="It ships today."
        )
    )
    assert await c.runner.run_due() == 1

    out = await one(c, sa.select(messages).where(messages.c.direction == "outbound"))
    [sent] = await outbox(c)
    assert out.status == "sent"
    assert out.provider_message_id == sent.provider_message_id
    assert sent.provider_message_id.startswith("SM")
    assert len(sent.provider_message_id) == 34
    assert (sent.provider, sent.recipient, sent.text) == ("twilio", ANA_PHONE, "It ships today.")
    params = sent.request["params"]
    assert (params["From"], params["To"]) == (OUR_NUMBER, ANA_PHONE)
    assert params["StatusCallback"] == f"{served}/webhooks/twilio/status"
    assert sent.request["account_sid"] == ACCOUNT_SID

    # Twilio calls the StatusCallback URL we gave it, signed over that URL.
    callback = params["StatusCallback"]
    status = form("status_undelivered_30003", MessageSid=sent.provider_message_id)
    status["SmsSid"] = sent.provider_message_id
    async with httpx.AsyncClient() as http:
        r = await http.post(
            callback,
            content=urlencode(status).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": sign(callback, status),
            },
        )
        assert r.status_code == 204, r.text
        again = await http.post(
            callback,
            content=urlencode(status).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": sign(callback, status),
            },
        )
        assert again.status_code == 204

    failed = await one(c, sa.select(messages).where(messages.c.id == out.id))
    assert failed.status == "failed"
    assert failed.error == (
        "the customer's phone is unreachable (switched off or out of coverage) (Twilio error 30003)"
    )
    entries = await timeline(c, conv.customer_id)
    assert [e["kind"] for e in entries].count("delivery_failed") == 1
    assert entries[-1]["kind"] == "delivery_failed"
    assert entries[-1]["data"]["error"] == failed.error


async def test_delivered_callback_moves_the_message_forward(container: Any, served: str) -> None:
    c = container
    await make_sms_inbox(c)
    async with api_client(c) as client:
        await post_form(client, "/webhooks/twilio/sms", form("inbound_sms"))
        conv = await one(c, sa.select(conversations))
        await c.bus.execute(
            lambda tx: send_reply(tx, c.bus.cfg, conversation_id=conv.id, author_id=None, text="Hi")
        )
        await c.runner.run_due()
        out = await one(c, sa.select(messages).where(messages.c.direction == "outbound"))
        sid = out.provider_message_id
        status = "/webhooks/twilio/status"
        delivered = await post_form(
            client, status, form("status_delivered", MessageSid=sid, SmsSid=sid)
        )
        late_sent = await post_form(client, status, form("status_sent", MessageSid=sid, SmsSid=sid))
        stranger = await post_form(
            client, status, form("status_delivered", From="+14155550199", MessageSid=sid)
        )
    assert (delivered.status_code, late_sent.status_code, stranger.status_code) == (204, 204, 404)
    assert (await one(c, sa.select(messages.c.status).where(messages.c.id == out.id)))[0] == (
        "delivered"
    )


async def test_sms_sender_against_the_sandbox(container: Any, served: str) -> None:
    c = container
    inbox_id = await make_sms_inbox(c)
    inbox = await c.bus.inbox(inbox_id)
    sender = SmsSender(SenderContext(http=c.http, sandbox_base=f"{served}/sandbox"))
    sid = await sender.send(inbox, outbound("Ready for pickup 🙂"))
    assert sid is not None
    assert sid.startswith("SM")
    [row] = await outbox(c)
    assert (row.provider_message_id, row.text) == (sid, "Ready for pickup 🙂")

    with pytest.raises(DeliveryError) as bad_to:
        await sender.send(inbox, outbound(to="+1555"))
    assert bad_to.value.permanent
    assert "The 'To' number +1555 is not a valid phone number." in bad_to.value.reason
    assert "21211" in bad_to.value.reason

    with pytest.raises(DeliveryError) as empty:
        await sender.send(inbox, outbound(text="   "))
    assert empty.value.permanent
    assert "Message body is required. (Twilio error 21602)" in empty.value.reason
    assert len(await outbox(c)) == 1


async def test_twilio_sdk_speaks_to_the_sandbox(container: Any, served: str) -> None:
    c = container
    await make_sms_inbox(c)  # the sandbox takes the credentials of a sandbox inbox
    client = Client(ACCOUNT_SID, AUTH_TOKEN)
    client.api.base_url = f"{served}/sandbox/twilio"

    def create(**kwargs: Any) -> Any:
        return client.messages.create(**kwargs)

    message = await anyio.to_thread.run_sync(
        lambda: create(
            to=ANA_PHONE,
            from_=OUR_NUMBER,
            body="Your refund is on its way.",
            status_callback="https://acme.test/webhooks/twilio/status",
        )
    )
    assert message.sid.startswith("SM")
    assert message.status == "queued"
    assert (message.to, message.from_, message.body) == (
        ANA_PHONE,
        OUR_NUMBER,
        "Your refund is on its way.",
    )
    assert message.num_segments == "1"
    assert message.date_created is not None
    assert message.date_created.year >= 2020
    [row] = await outbox(c)
    assert row.provider_message_id == message.sid
    assert row.request["params"]["StatusCallback"] == "https://acme.test/webhooks/twilio/status"

    with pytest.raises(TwilioRestException) as refused:
        await anyio.to_thread.run_sync(lambda: create(to="12", from_=OUR_NUMBER, body="x"))
    assert (refused.value.status, refused.value.code) == (400, 21211)
    with pytest.raises(TwilioRestException) as no_body:
        await anyio.to_thread.run_sync(lambda: create(to=ANA_PHONE, from_=OUR_NUMBER, body=""))
    assert no_body.value.code == 21602
    assert len(await outbox(c)) == 1


async def test_sandbox_wants_basic_auth_like_twilio(container: Any, served: str) -> None:
    url = f"{served}/sandbox/twilio/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    data = {"To": ANA_PHONE, "From": OUR_NUMBER, "Body": "hi"}
    async with httpx.AsyncClient() as http:
        anonymous = await http.post(url, data=data)
        other = await http.post(url, data=data, auth=("AC" + "f" * 32, "token"))
        mangled = await http.post(url, data=data, headers={"Authorization": "Basic !!"})
    for r in (anonymous, other, mangled):
        assert r.status_code == 401
        assert r.json()["code"] == 20003
    assert await outbox(container) == []


async def test_messaging_service_and_twilio_errors(container: Any) -> None:
    c = container
    fake = ScriptedTwilio(
        (201, {"sid": "SM" + "a" * 32, "status": "accepted"}),
        (429, {"code": 20429, "message": "Too Many Requests", "status": 429}),
        (503, "<html>Service Unavailable</html>"),
        (
            400,
            {
                "code": 21610,
                "message": "Attempt to send to unsubscribed recipient",
                "more_info": "https://www.twilio.com/docs/errors/21610",
                "status": 400,
            },
        ),
        (401, {"code": 20003, "message": "Authenticate", "status": 401}),
        (404, "<html>Not Found</html>"),
    )
    port = free_port()
    inbox_id = await make_sms_inbox(
        c,
        sandbox=False,
        api_base=f"http://127.0.0.1:{port}",
        messaging_service_sid="MG7f6e5d4c3b2a19087f6e5d4c3b2a1908",
    )
    inbox = await c.bus.inbox(inbox_id)
    sender = SmsSender(SenderContext(http=c.http, sandbox_base="https://help.acme.test/sandbox"))
    async with serving(fake, port):
        assert await sender.send(inbox, outbound()) == "SM" + "a" * 32
        sent = dict(p.split("=", 1) for p in fake.requests[0].decode().split("&"))
        assert sent["MessagingServiceSid"] == "MG7f6e5d4c3b2a19087f6e5d4c3b2a1908"
        assert "From" not in sent
        assert sent["StatusCallback"] == "https%3A%2F%2Fhelp.acme.test%2Fwebhooks%2Ftwilio%2Fstatus"

        outcomes = []
        for _ in range(5):
            with pytest.raises(DeliveryError) as err:
                await sender.send(inbox, outbound())
            outcomes.append((err.value.permanent, err.value.reason))
    assert [p for p, _ in outcomes] == [False, False, True, True, True]
    assert "429" in outcomes[0][1]
    assert "503" in outcomes[1][1]
    assert outcomes[2][1] == (
        "Twilio refused the message: the customer has unsubscribed from this number "
        "(replied STOP) (Twilio error 21610): Attempt to send to unsubscribed recipient"
    )
    assert "credentials" in outcomes[3][1]
    assert "404" in outcomes[4][1]

    # Nothing listening: a network failure is worth retrying.
    with pytest.raises(DeliveryError) as down:
        await sender.send(inbox, outbound())
    assert not down.value.permanent


async def test_inbox_without_credentials_fails_permanently(container: Any) -> None:
    c = container
    inbox_id = await make_sms_inbox(c, account_sid="", auth_token="")
    sender = SmsSender(SenderContext(http=c.http, sandbox_base="http://127.0.0.1:9/sandbox"))
    with pytest.raises(DeliveryError) as err:
        await sender.send(await c.bus.inbox(inbox_id), outbound())
    assert err.value.permanent
    assert "account_sid" in err.value.reason
