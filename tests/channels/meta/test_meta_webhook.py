"""GET|POST /webhooks/meta as Meta calls it: the handshake, signed batches, retries."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import sqlalchemy as sa
from tests.channels.meta.support import (
    IGSID,
    PSID,
    VERIFY_TOKEN,
    WA_ID,
    fixture,
    make_meta_inbox,
    meta_signature,
    post_meta,
    raw,
)
from tests.support.factories import api_client, timeline

from threadline.bootstrap import Container
from threadline.storage.tables import customers, identities, inbound_receipts, messages

pytestmark = pytest.mark.anyio


async def rows(c: Container, query: Any) -> list[Any]:
    return list(await c.db.read(lambda conn: conn.execute(query).all()))


def handshake(token: str, mode: str = "subscribe") -> dict[str, str]:
    return {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": "1158201444"}


async def test_handshake_echoes_the_bare_challenge(container: Container) -> None:
    await make_meta_inbox(container, "messenger", verify_token="page-token")
    await make_meta_inbox(container, "whatsapp")
    async with api_client(container) as client:
        ok = await client.get("/webhooks/meta", params=handshake(VERIFY_TOKEN))
        assert ok.status_code == 200
        assert ok.text == "1158201444"
        assert ok.headers["content-type"].startswith("text/plain")
        assert (await client.get("/webhooks/meta", params=handshake("page-token"))).text == (
            "1158201444"
        )
        wrong = await client.get("/webhooks/meta", params=handshake("guess"))
        assert wrong.status_code == 403
        assert "1158201444" not in wrong.text
        mode = await client.get("/webhooks/meta", params=handshake(VERIFY_TOKEN, "unsubscribe"))
        assert mode.status_code == 403


async def test_bad_or_missing_signature_is_refused(container: Container) -> None:
    await make_meta_inbox(container, "whatsapp")
    body = raw(fixture("whatsapp_text"))
    async with api_client(container) as client:
        forged = await post_meta(client, body, secret="not-the-app-secret")
        assert forged.status_code == 403
        unsigned = await client.post(
            "/webhooks/meta", content=body, headers={"Content-Type": "application/json"}
        )
        assert unsigned.status_code == 403
        tampered = await client.post(
            "/webhooks/meta",
            content=body.replace(b"another color", b"refund please"),
            headers={"X-Hub-Signature-256": meta_signature(body)},
        )
        assert tampered.status_code == 403
    assert await rows(container, sa.select(messages)) == []
    assert await rows(container, sa.select(inbound_receipts)) == []


async def test_unknown_number_is_404_and_unreadable_json_400(container: Container) -> None:
    await make_meta_inbox(container, "whatsapp", address="111222333")
    async with api_client(container) as client:
        assert (await post_meta(client, fixture("whatsapp_text"))).status_code == 404
        # No inbox can be named from a body we cannot read, so nothing to quarantine it under.
        assert (await post_meta(client, b"{not json")).status_code == 400


async def test_a_batch_of_two_messages_stores_both(container: Container) -> None:
    c = container
    await make_meta_inbox(c, "whatsapp")
    batch = fixture("whatsapp_text")
    batch["entry"] += fixture("whatsapp_image")["entry"]
    async with api_client(c) as client:
        r = await post_meta(client, batch)
        assert r.status_code == 200, r.text
        assert r.json()["statuses"] == ["processed", "processed"]
    stored = await rows(c, sa.select(messages).order_by(messages.c.id))
    assert [m.text for m in stored] == [
        "Does it come in another color?",
        "[image] This is the one I got, the strap is torn",
    ]
    assert {m.channel for m in stored} == {"whatsapp"}
    assert len({m.conversation_id for m in stored}) == 1
    [customer] = await rows(c, sa.select(customers))
    assert customer.name == "Sheena Nelson"
    assert {(i.kind, i.value) for i in await rows(c, sa.select(identities))} == {
        ("whatsapp", WA_ID),
        ("phone", "+16505551234"),
    }
    assert stored[0].meta["user_id"] == "US.13491208655302741918"
    assert stored[1].meta["media_id"] == "1003383421387256"


async def test_the_same_wamid_delivered_twice_is_stored_once(container: Container) -> None:
    c = container
    await make_meta_inbox(c, "whatsapp")
    async with api_client(c) as client:
        first = await post_meta(client, fixture("whatsapp_text"))
        again = await post_meta(client, fixture("whatsapp_text"))
        assert (first.status_code, again.status_code) == (200, 200)
        assert again.json()["statuses"] == ["duplicate"]
    assert len(await rows(c, sa.select(messages))) == 1
    assert len(await rows(c, sa.select(inbound_receipts))) == 1


async def test_messenger_and_instagram_messages_land_on_their_channels(
    container: Container,
) -> None:
    c = container
    await make_meta_inbox(c, "messenger")
    await make_meta_inbox(c, "instagram")
    async with api_client(c) as client:
        for name in ("messenger_text", "messenger_echo", "instagram_dm"):
            r = await post_meta(client, fixture(name))
            assert r.status_code == 200, r.text
    stored = await rows(c, sa.select(messages).order_by(messages.c.id))
    assert [(m.channel, m.text) for m in stored] == [
        ("messenger", "hello, world!"),
        ("instagram", "Hi! Is the blue one back in stock?"),
    ]
    keys = {r.provider_message_id: r.status for r in await rows(c, sa.select(inbound_receipts))}
    assert keys["echo:mid.1457764197618:41d102a3e1ae206a99"] == "ignored"
    assert {(i.kind, i.value) for i in await rows(c, sa.select(identities))} == {
        ("messenger", PSID),
        ("instagram", IGSID),
    }


async def test_a_mixed_batch_goes_to_each_page_inbox(container: Container) -> None:
    c = container
    first = await make_meta_inbox(c, "messenger")
    second = await make_meta_inbox(c, "messenger", address="200000000000002")
    batch = fixture("messenger_text")
    other = copy.deepcopy(batch["entry"][0])
    other["id"] = "200000000000002"
    other["messaging"][0]["message"]["mid"] = "m_for_the_second_page"
    batch["entry"].append(other)
    async with api_client(c) as client:
        assert (await post_meta(client, batch)).status_code == 200
    stored = await rows(c, sa.select(messages.c.inbox_id, messages.c.provider_message_id))
    assert sorted(stored) == [
        (first, "mid.1457764197618:41d102a3e1ae206a38"),
        (second, "m_for_the_second_page"),
    ]


async def test_a_malformed_event_is_quarantined_and_acknowledged(container: Container) -> None:
    c = container
    await make_meta_inbox(c, "whatsapp")
    broken = fixture("whatsapp_text")
    broken["entry"][0]["changes"][0]["value"]["messages"] = "not a list"
    async with api_client(c) as client:
        r = await post_meta(client, broken)
        assert r.status_code == 200
        assert r.json()["statuses"] == ["quarantined"]
    [receipt] = await rows(c, sa.select(inbound_receipts))
    assert receipt.status == "quarantined"
    assert "messages" in receipt.error
    assert receipt.payload == raw(broken)


async def test_whatsapp_customer_shows_on_the_timeline(container: Container) -> None:
    c = container
    await make_meta_inbox(c, "whatsapp")
    async with api_client(c) as client:
        r = await post_meta(client, fixture("whatsapp_text"))
        assert r.status_code == 200
    [customer] = await rows(c, sa.select(customers))
    entries = await timeline(c, customer.id)
    assert [(e["kind"], e["message"] and e["message"]["channel"]) for e in entries] == [
        ("message", "whatsapp")
    ]
    assert entries[0]["message"]["sender"] == f"whatsapp:{WA_ID}"
