"""The REST API over HTTP, as an integrator uses it."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.factories import (
    api_client,
    deliver_email,
    make_agent,
    make_api_inbox,
    make_email,
    make_email_inbox,
)

pytestmark = pytest.mark.anyio


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_requires_a_valid_token(container: Any) -> None:
    async with api_client(container) as client:
        assert (await client.get("/api/v1/conversations")).status_code == 401
        assert (
            await client.get("/api/v1/conversations", headers=auth("tl_nope"))
        ).status_code == 401


async def test_viewer_can_read_but_not_write(container: Any) -> None:
    c = container
    await make_api_inbox(c)
    _, token = await make_agent(c, email="viewer@acme.test", role="viewer")
    async with api_client(c) as client:
        assert (await client.get("/api/v1/conversations", headers=auth(token))).status_code == 200
        r = await client.post("/api/v1/customers", json={"name": "X"}, headers=auth(token))
        assert r.status_code == 403


async def test_api_message_continues_email_and_timeline_spans_channels(container: Any) -> None:
    c = container
    email_inbox = await make_email_inbox(c)
    await make_api_inbox(c)
    _, token = await make_agent(c)
    raw, _ = make_email(body="Where is order #4417?")
    first = await deliver_email(c, email_inbox, raw)
    async with api_client(c) as client:
        r = await client.post(
            "/api/v1/messages",
            json={"id": "m1", "customer": {"email": "ana@example.com"}, "text": "Any news?"},
            headers=auth(token),
        )
        assert r.status_code == 202, r.text
        body = r.json()
        assert body["status"] == "processed"
        assert body["conversation_id"] == first.conversation_id
        again = await client.post(
            "/api/v1/messages",
            json={"id": "m1", "customer": {"email": "ana@example.com"}, "text": "Any news?"},
            headers=auth(token),
        )
        assert again.json()["status"] == "duplicate"

        tl = (
            await client.get(f"/api/v1/customers/{first.customer_id}/timeline", headers=auth(token))
        ).json()
        assert [(e["kind"], e["message"] and e["message"]["channel"]) for e in tl] == [
            ("message", "api"),
            ("channel_switched", None),
            ("message", "email"),
        ]
        page = (
            await client.get(
                f"/api/v1/customers/{first.customer_id}/timeline?limit=1&before={tl[0]['id']}",
                headers=auth(token),
            )
        ).json()
        assert [e["id"] for e in page] == [tl[1]["id"]]

        found = (
            await client.get(
                "/api/v1/customers?identity=email:ANA@example.com", headers=auth(token)
            )
        ).json()
        assert [x["id"] for x in found] == [first.customer_id]
        assert (
            await client.get("/api/v1/customers/9999/timeline", headers=auth(token))
        ).status_code == 404


async def test_bad_api_message_gets_a_clear_422(container: Any) -> None:
    c = container
    await make_api_inbox(c)
    _, token = await make_agent(c)
    async with api_client(c) as client:
        r = await client.post(
            "/api/v1/messages", json={"customer": {}, "text": "hi"}, headers=auth(token)
        )
        assert r.status_code == 400
        assert "external_id, email or phone" in r.text
        r = await client.post(
            "/api/v1/messages", json={"customer": {"email": "x"}}, headers=auth(token)
        )
        assert r.status_code == 400
        assert "text" in r.text


async def test_conversation_filters_update_and_reply_on_chosen_channel(container: Any) -> None:
    c = container
    email_inbox = await make_email_inbox(c)
    await make_api_inbox(c)
    user_id, token = await make_agent(c)
    raw, _ = make_email()
    first = await deliver_email(c, email_inbox, raw)
    async with api_client(c) as client:
        h = auth(token)
        convs = (await client.get("/api/v1/conversations?status=open", headers=h)).json()
        assert [x["id"] for x in convs] == [first.conversation_id]
        assert (await client.get("/api/v1/conversations?status=resolved", headers=h)).json() == []
        r = await client.patch(
            f"/api/v1/conversations/{first.conversation_id}",
            json={"priority": "urgent", "assignee_id": user_id},
            headers=h,
        )
        assert r.status_code == 200, r.text
        assert (r.json()["priority"], r.json()["assignee_id"]) == ("urgent", user_id)
        mine = (
            await client.get(
                f"/api/v1/conversations?assignee_id={user_id}&priority=urgent", headers=h
            )
        ).json()
        assert len(mine) == 1

        # No phone on file: an SMS reply is refused with the reason.
        r = await client.post(
            f"/api/v1/conversations/{first.conversation_id}/replies",
            json={"text": "hi", "channel": "sms"},
            headers=h,
        )
        assert r.status_code == 422
        assert "no phone identity" in r.text
        r = await client.post(
            f"/api/v1/conversations/{first.conversation_id}/replies",
            json={"text": "On it", "status": "pending"},
            headers=h,
        )
        assert r.status_code == 202, r.text
        assert r.json()["channel"] == "email"
        assert r.json()["recipient"] == "ana@example.com"
        note = await client.post(
            f"/api/v1/conversations/{first.conversation_id}/replies",
            json={"text": "internal: check the warehouse", "note": True},
            headers=h,
        )
        assert note.json()["status"] == "sent"
        msgs = (
            await client.get(f"/api/v1/conversations/{first.conversation_id}/messages", headers=h)
        ).json()
        assert [m["direction"] for m in msgs] == ["inbound", "outbound", "note"]
        conv = (
            await client.get(f"/api/v1/conversations/{first.conversation_id}", headers=h)
        ).json()
        assert conv["status"] == "pending"
        r = await client.patch(
            f"/api/v1/conversations/{first.conversation_id}", json={"status": "resolved"}, headers=h
        )
        assert r.json()["status"] == "resolved"
        r = await client.patch(
            f"/api/v1/conversations/{first.conversation_id}", json={"status": "pending"}, headers=h
        )
        assert r.status_code == 422


async def test_merge_and_unmerge_restore_exactly(container: Any) -> None:
    c = container
    await make_api_inbox(c)
    _, token = await make_agent(c)
    async with api_client(c) as client:
        h = auth(token)
        a = (
            await client.post(
                "/api/v1/messages",
                json={"id": "1", "customer": {"email": "ana@example.com"}, "text": "by email"},
                headers=h,
            )
        ).json()
        b = (
            await client.post(
                "/api/v1/messages",
                json={"id": "2", "customer": {"phone": "+14155550101"}, "text": "by phone"},
                headers=h,
            )
        ).json()
        m = await client.post(
            "/api/v1/customers/merge",
            json={"source_id": b["customer_id"], "target_id": a["customer_id"]},
            headers=h,
        )
        assert m.status_code == 201, m.text
        merged = (await client.get(f"/api/v1/customers/{a['customer_id']}", headers=h)).json()
        assert sorted(i["kind"] for i in merged["identities"]) == ["email", "phone"]
        tl = (await client.get(f"/api/v1/customers/{a['customer_id']}/timeline", headers=h)).json()
        assert {e["message"]["text"] for e in tl if e["message"]} == {"by email", "by phone"}
        # The merged customer's next SMS lands on the merged record.
        later = (
            await client.post(
                "/api/v1/messages",
                json={"id": "3", "customer": {"phone": "+14155550101"}, "text": "again"},
                headers=h,
            )
        ).json()
        assert later["customer_id"] == a["customer_id"]

        u = await client.post(
            "/api/v1/customers/unmerge", json={"merge_id": m.json()["merge_id"]}, headers=h
        )
        assert u.status_code == 201, u.text
        back = (await client.get(f"/api/v1/customers/{b['customer_id']}", headers=h)).json()
        assert [i["kind"] for i in back["identities"]] == ["phone"]
        assert back["merged_into_id"] is None
        again = await client.post(
            "/api/v1/customers/unmerge", json={"merge_id": m.json()["merge_id"]}, headers=h
        )
        assert again.status_code == 409


async def test_receipts_quarantine_list_and_replay(container: Any) -> None:
    c = container
    inbox = await make_email_inbox(c)
    _, token = await make_agent(c)
    out = await deliver_email(c, inbox, b"Subject: no from\r\n\r\nbody\r\n")
    assert out.status == "quarantined"
    async with api_client(c) as client:
        h = auth(token)
        listed = (await client.get("/api/v1/receipts", headers=h)).json()
        assert [r["id"] for r in listed] == [out.receipt_id]
        detail = (await client.get(f"/api/v1/receipts/{out.receipt_id}", headers=h)).json()
        assert "Subject: no from" in detail["payload"]
        still = await client.post(f"/api/v1/receipts/{out.receipt_id}/replay", json={}, headers=h)
        assert still.status_code == 422
        fixed = "From: ana@example.com\r\nMessage-ID: <fixed-1@example.com>\r\nSubject: no from\r\n\r\nbody\r\n"
        r = await client.post(
            f"/api/v1/receipts/{out.receipt_id}/replay", json={"payload": fixed}, headers=h
        )
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "processed"
        assert (await client.get("/api/v1/receipts", headers=h)).json() == []


async def test_search_and_openapi(container: Any) -> None:
    c = container
    await make_api_inbox(c)
    _, token = await make_agent(c)
    async with api_client(c) as client:
        h = auth(token)
        await client.post(
            "/api/v1/messages",
            json={"id": "1", "customer": {"external_id": "u"}, "text": "The kettle leaks"},
            headers=h,
        )
        hits = (await client.get("/api/v1/search?q=kettle", headers=h)).json()["messages"]["hits"]
        assert [x["segments"] for x in hits] == [
            [
                {"text": "The ", "match": False},
                {"text": "kettle", "match": True},
                {"text": " leaks", "match": False},
            ]
        ]
        spec = (await client.get("/api/v1/openapi.json")).json()
        for path in (
            "/api/v1/messages",
            "/api/v1/customers/{customer_id}/timeline",
            "/api/v1/receipts/{receipt_id}/replay",
        ):
            assert path in spec["paths"]
