"""Inbound SMS through the webhook, as Twilio posts it: signatures, dedup,
quarantine, MMS, and the SMS limits an agent meets when replying."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from tests.channels.twilio_sms.support import (
    ANA_PHONE,
    BASE,
    form,
    make_sms_inbox,
    post_form,
    sign,
)
from tests.support.factories import api_client, make_agent, timeline

from threadline.storage.tables import conversations, identities, inbound_receipts, messages

pytestmark = pytest.mark.anyio

SMS = "/webhooks/twilio/sms"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


async def rows(c: Any, table: Any) -> list[Any]:
    return await c.db.read(lambda conn: conn.execute(sa.select(table).order_by(table.c.id)).all())


async def test_inbound_sms_becomes_a_message_and_twilio_gets_empty_twiml(container: Any) -> None:
    c = container
    await make_sms_inbox(c)
    async with api_client(c) as client:
        r = await post_form(client, SMS, form("inbound_sms"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/xml")
    assert r.text == EMPTY_TWIML
    [msg] = await rows(c, messages)
    assert (msg.channel, msg.direction, msg.status) == ("sms", "inbound", "received")
    assert msg.text == "Hi, my order #4417 never arrived. Any update?"
    assert msg.provider_message_id == "SM9c1c4d3e1f2a4b5c6d7e8f9a0b1c2d3e"
    [ident] = await rows(c, identities)
    assert (ident.kind, ident.value, ident.customer_id) == ("phone", ANA_PHONE, msg.customer_id)
    [entry] = await timeline(c, msg.customer_id)
    assert (entry["kind"], entry["message"]["channel"]) == ("message", "sms")
    assert entry["message"]["sender"] == f"phone:{ANA_PHONE}"
    [receipt] = await rows(c, inbound_receipts)
    assert receipt.context == {"url": f"{BASE}{SMS}"}


async def test_twilio_retry_is_stored_once(container: Any) -> None:
    c = container
    await make_sms_inbox(c)
    async with api_client(c) as client:
        first = await post_form(client, SMS, form("inbound_sms"))
        again = await post_form(client, SMS, form("inbound_sms"))
    assert (first.status_code, again.status_code) == (200, 200)
    assert len(await rows(c, messages)) == 1
    assert len(await rows(c, inbound_receipts)) == 1


@pytest.mark.parametrize(
    "forge",
    [
        lambda params: "bm90IGEgc2lnbmF0dXJl",  # garbage
        lambda params: "",  # missing
        lambda params: sign(f"{BASE}{SMS}", params, token="the-wrong-token"),
        lambda params: sign(f"{BASE}/elsewhere", params),  # signed for another URL
        lambda params: sign(f"{BASE}{SMS}", {**params, "Body": "something else"}),
    ],
    ids=["garbage", "missing", "wrong-token", "wrong-url", "tampered-body"],
)
async def test_bad_signature_is_refused_and_nothing_is_stored(container: Any, forge: Any) -> None:
    c = container
    await make_sms_inbox(c)
    params = form("inbound_sms")
    async with api_client(c) as client:
        r = await post_form(client, SMS, params, signature=forge(params))
    assert r.status_code == 403
    assert await rows(c, inbound_receipts) == []
    assert await rows(c, messages) == []


async def test_unknown_number_is_404(container: Any) -> None:
    c = container
    await make_sms_inbox(c)
    async with api_client(c) as client:
        r = await post_form(client, SMS, form("inbound_sms", To="+14155550199"))
        nothing = await post_form(client, SMS, form("inbound_sms", To=None))
    assert (r.status_code, nothing.status_code) == (404, 404)
    assert await rows(c, inbound_receipts) == []


async def test_number_formatting_does_not_hide_the_inbox(container: Any) -> None:
    c = container
    await make_sms_inbox(c)
    async with api_client(c) as client:
        r = await post_form(client, SMS, form("inbound_sms", To="+1 415-555-0100"))
    assert r.status_code == 200
    assert len(await rows(c, messages)) == 1


async def test_malformed_form_is_quarantined_and_acknowledged(container: Any) -> None:
    c = container
    await make_sms_inbox(c)
    async with api_client(c) as client:
        r = await post_form(client, SMS, form("inbound_sms", From=None))
    assert r.status_code == 200
    [receipt] = await rows(c, inbound_receipts)
    assert receipt.status == "quarantined"
    assert receipt.source == "twilio_sms"
    assert "From" in receipt.error
    assert await rows(c, messages) == []


async def test_mms_keeps_media_links_and_shows_placeholders(container: Any) -> None:
    c = container
    await make_sms_inbox(c)
    params = form("inbound_mms")
    async with api_client(c) as client:
        r = await post_form(client, SMS, params)
    assert r.status_code == 200
    [msg] = await rows(c, messages)
    assert msg.text == "[image] [image]"
    assert msg.meta["media"] == [
        {"url": params["MediaUrl0"], "content_type": "image/jpeg"},
        {"url": params["MediaUrl1"], "content_type": "image/png"},
    ]


async def test_sms_reply_limits_through_the_rest_api(container: Any) -> None:
    c = container
    await make_sms_inbox(c)
    _, token = await make_agent(c)
    auth = {"Authorization": f"Bearer {token}"}
    async with api_client(c) as client:
        await post_form(client, SMS, form("inbound_sms"))
        [conv] = await rows(c, conversations)
        url = f"/api/v1/conversations/{conv.id}/replies"
        # 701 UTF-16 units (one curly apostrophe forces UCS-2): 11 segments of 67.
        too_long = await client.post(
            url, json={"text": "We’re " + "x" * 695, "channel": "sms"}, headers=auth
        )
        assert too_long.status_code == 422, too_long.text
        assert "11 segments; the limit is 10" in too_long.json()["detail"]
        two = await client.post(url, json={"text": "y" * 200, "channel": "sms"}, headers=auth)
        assert two.status_code == 202, two.text
        assert two.json()["warnings"] == ["sent as 2 SMS segments (GSM-7)"]
        one = await client.post(url, json={"text": "On its way!", "channel": "sms"}, headers=auth)
        assert one.json()["warnings"] == []
    outbound = [m for m in await rows(c, messages) if m.direction == "outbound"]
    assert [(m.channel, m.recipient, m.status) for m in outbound] == [
        ("sms", ANA_PHONE, "queued"),
        ("sms", ANA_PHONE, "queued"),
    ]
