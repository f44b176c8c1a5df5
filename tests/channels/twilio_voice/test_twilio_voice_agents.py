"""Twilio Voice from the agent's side: going on duty with a phone to ring, and
logging a call made outside Twilio by hand."""

from __future__ import annotations

import pytest
from tests.channels.twilio_voice.flow_support import auth
from tests.channels.twilio_voice.support import (
    client_for,
)
from tests.support.factories import (
    deliver_email,
    make_agent,
    make_email,
    make_email_inbox,
)

from threadline.bootstrap import Container

pytestmark = pytest.mark.anyio


async def test_an_agent_logs_a_call_by_hand(container: Container) -> None:
    c = container
    email_inbox = await make_email_inbox(c)
    agent_id, sam = await make_agent(c, role="agent")
    _, viewer = await make_agent(c, "vic@acme.test", role="viewer")
    first = await deliver_email(c, email_inbox, make_email()[0])
    body = {
        "customer_id": first.customer_id,
        "conversation_id": first.conversation_id,
        "direction": "outbound",
        "duration_seconds": 240,
        "notes": "Called Ana back: the parcel is at the depot, delivery Friday.",
    }
    async with client_for(c) as client:
        r = await client.post("/api/v1/calls", json=body, headers=auth(sam))
        assert r.status_code == 201, r.text
        assert (
            await client.post("/api/v1/calls", json=body, headers=auth(viewer))
        ).status_code == (403)
        other = {**body, "customer_id": 999, "conversation_id": None}
        assert (await client.post("/api/v1/calls", json=other, headers=auth(sam))).status_code == (
            404
        )
        tl = (
            await client.get(f"/api/v1/customers/{first.customer_id}/timeline", headers=auth(sam))
        ).json()

    assert [e["kind"] for e in tl] == ["call", "message"]
    data = tl[0]["data"]
    assert tl[0]["conversation_id"] == first.conversation_id
    assert data["notes"] == body["notes"]
    assert (data["direction"], data["duration_seconds"], data["logged_by"]) == (
        "outbound",
        240,
        agent_id,
    )


async def test_going_on_duty_needs_a_usable_phone(container: Container) -> None:
    c = container
    _, sam = await make_agent(c, role="agent")
    _, viewer = await make_agent(c, "vic@acme.test", role="viewer")
    async with client_for(c) as client:
        url = "/api/v1/agents/me/duty"
        r = await client.post(url, json={"on_duty": True}, headers=auth(sam))
        assert r.status_code == 422
        assert "phone" in r.json()["detail"]
        r = await client.post(url, json={"on_duty": True, "phone": "555-0110"}, headers=auth(sam))
        assert r.status_code == 422
        r = await client.post(
            url, json={"on_duty": True, "phone": "+1 415 555 0110"}, headers=auth(viewer)
        )
        assert r.status_code == 403
        r = await client.post(
            url, json={"on_duty": True, "phone": "+1 415 555 0110"}, headers=auth(sam)
        )
        assert r.json()["phone"] == "+14155550110"
