"""The customer simulator and the composer's reply options, against a real server.

The simulator posts signed provider webhooks to our own URL, so these tests
serve the app with uvicorn and log in through the real login form.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from tests.channels.twilio_sms.support import make_sms_inbox
from tests.support.factories import make_agent
from threadline.actions.replies import send_reply
from threadline.actions.users import add_user
from threadline.core.model import Channel
from threadline.storage.tables import messages, sandbox_outbox

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse"


async def login(client: httpx.AsyncClient, email: str) -> None:
    form = await client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token
    r = await client.post(
        "/login", data={"email": email, "password": PASSWORD, "_csrf_token": token[1]}
    )
    assert r.status_code == 302, r.text


async def csrf(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token
    return token[1]


async def test_simulated_sms_takes_the_real_path_and_the_reply_comes_back(
    container: Any, served: str
) -> None:
    c = container
    await make_sms_inbox(c)
    hashed = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    await c.bus.execute(
        lambda tx: add_user(
            tx,
            email="admin@acme.test",
            name="Ada",
            role="admin",
            password_hash=hashed,
            actor="test",
        )
    )
    async with httpx.AsyncClient(base_url=served) as web:
        await login(web, "admin@acme.test")
        token = await csrf(web, "/simulator")
        r = await web.post(
            "/simulator/send",
            data={
                "kind": "sms",
                "identity": "+1 415 555 0101",
                "text": "Is my order shipped?",
                "_csrf_token": token,
            },
        )
        assert r.status_code == 303
        assert (
            r.headers["location"] == "/simulator?identity=%2B1+415+555+0101&result=sms+sent%3A+200"
        )
        inbound = await c.db.read(lambda conn: conn.execute(sa.select(messages)).one())
        assert (inbound.channel, inbound.text) == ("sms", "Is my order shipped?")

        await c.bus.execute(
            lambda tx: send_reply(
                tx,
                c.bus.cfg,
                conversation_id=inbound.conversation_id,
                author_id=None,
                text="Yes, it left this morning.",
                channel=Channel.SMS,
            )
        )
        assert await c.runner.run_due() == 1
        got = await c.db.read(lambda conn: conn.execute(sa.select(sandbox_outbox)).one())
        assert (got.recipient, got.text) == ("+14155550101", "Yes, it left this morning.")
        page = await web.get("/simulator", params={"identity": "+14155550101"})
        assert "Yes, it left this morning." in page.text


async def test_simulator_is_for_admins_only(container: Any, served: str) -> None:
    c = container
    hashed = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    await c.bus.execute(
        lambda tx: add_user(
            tx, email="agent@acme.test", name="Al", role="agent", password_hash=hashed, actor="test"
        )
    )
    async with httpx.AsyncClient(base_url=served) as web:
        assert (await web.get("/simulator")).status_code == 401
        await login(web, "agent@acme.test")
        assert (await web.get("/simulator")).status_code == 403


async def test_reply_options_show_limits_before_sending(container: Any, clock: Any) -> None:
    from tests.support.factories import api_client, deliver_api, make_api_inbox

    c = container
    await make_sms_inbox(c)
    api_inbox = await make_api_inbox(c)
    _, token = await make_agent(c)
    first = await deliver_api(
        c, api_inbox, {"id": "1", "customer": {"phone": "+14155550101"}, "text": "hi"}
    )
    async with api_client(c) as client:
        h = {"Authorization": f"Bearer {token}"}
        long_text = "Your order ships tomorrow. " * 8  # 216 GSM-7 characters: two segments
        r = await client.get(
            f"/api/v1/conversations/{first.conversation_id}/reply-options",
            params={"text": long_text},
            headers=h,
        )
        assert r.status_code == 200, r.text
        by_channel = {o["channel"]: o for o in r.json()["options"]}
        assert r.json()["default"] == "api"
        assert by_channel["sms"]["allowed"] is True
        assert by_channel["sms"]["sms"] == {"segments": 2, "encoding": "GSM-7"}
        assert by_channel["sms"]["warnings"] == ["sent as 2 SMS segments (GSM-7)"]
        assert by_channel["sms"]["max_text"] == 1600
        assert by_channel["sms"]["attachment_types"] == ["image/jpeg", "image/png", "image/gif"]
        assert by_channel["sms"]["max_attachment_bytes"] == 5 * 1024 * 1024
        too_long = await client.get(
            f"/api/v1/conversations/{first.conversation_id}/reply-options",
            params={"text": "x" * 1700},
            headers=h,
        )
        sms = {o["channel"]: o for o in too_long.json()["options"]}["sms"]
        assert sms["allowed"] is False
        assert "1,600" in sms["reason"]
        assert (
            await client.get("/api/v1/conversations/999/reply-options", headers=h)
        ).status_code == 404
