"""Who may post on the API channel, and the admin routes for teams and inboxes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.support.factories import (
    SUPPORT,
    deliver_email,
    make_agent,
    make_api_inbox,
    make_email,
    make_email_inbox,
    make_inbox,
    make_team,
)

from threadline.bootstrap import Container
from threadline.storage.tables import inbound_receipts

pytestmark = pytest.mark.anyio


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _receipts(c: Container) -> int:
    return await c.db.read(
        lambda conn: conn.execute(sa.select(sa.func.count()).select_from(inbound_receipts)).scalar()
    )


async def _post(base: str, token: str, body: dict[str, Any]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base) as client:
        return await client.post("/api/v1/messages", json=body, headers=auth(token))


async def test_a_viewer_token_cannot_post_messages(container: Container, served: str) -> None:
    await make_api_inbox(container)
    _, viewer = await make_agent(container, "vic@acme.test", "viewer")
    r = await _post(served, viewer, {"customer": {"email": "ana@example.com"}, "text": "hi"})
    assert r.status_code == 403
    assert await _receipts(container) == 0


async def test_a_token_cannot_post_into_an_email_inbox_to_preempt_its_mail(
    container: Container, served: str
) -> None:
    c = container
    email_inbox = await make_email_inbox(c)
    await make_api_inbox(c)
    _, token = await make_agent(c, "sam@acme.test", "agent")
    raw, message_id = make_email(body="My order is late.")
    forged = {
        "id": message_id,  # the Message-ID of a mail that has not arrived yet
        "inbox_id": email_inbox,
        "customer": {"email": "mallory@example.com"},
        "text": "nothing to see",
    }
    r = await _post(served, token, forged)
    assert r.status_code == 403, r.text
    assert "not an API inbox" in r.text
    assert await _receipts(c) == 0
    real = await deliver_email(c, email_inbox, raw, rcpt_tos=[SUPPORT])
    assert real.status == "processed"  # not acknowledged and dropped as a duplicate


async def test_a_restricted_token_posts_only_to_its_teams_api_inboxes(
    container: Container, served: str
) -> None:
    c = container
    theirs = await make_inbox(c, "api", "Partner app", "partner-app", {})
    mine = await make_inbox(c, "api", "Billing app", "billing-app", {})
    rosa, token = await make_agent(c, "rosa@acme.test", "agent")
    await make_team(c, "Billing", members=[rosa], inboxes=[mine], restrict=[rosa])
    body = {"customer": {"external_id": "u1"}, "text": "hello"}
    r = await _post(served, token, {**body, "id": "a", "inbox_id": theirs})
    assert r.status_code == 404, r.text  # as if it did not exist
    r = await _post(served, token, {**body, "id": "b"})  # the default: the first one in scope
    assert r.status_code == 202, r.text
    rows = await c.db.read(
        lambda conn: conn.execute(sa.select(inbound_receipts.c.inbox_id)).scalars().all()
    )
    assert rows == [mine]


async def test_inboxes_are_listed_without_their_secrets(container: Container, served: str) -> None:
    c = container
    inbox = await make_email_inbox(c, webhook_secret="very-secret", smtp={"password": "hunter2"})
    _, token = await make_agent(c)
    async with httpx.AsyncClient(base_url=served, headers=auth(token)) as client:
        r = await client.get("/api/v1/inboxes")
    assert r.status_code == 200
    assert r.json() == [
        {"id": inbox, "channel": "email", "name": "Acme Support", "address": SUPPORT}
    ]
    assert "secret" not in r.text
    assert "hunter2" not in r.text


async def test_teams_take_only_real_members_and_unique_names(
    container: Container, served: str
) -> None:
    c = container
    inbox = await make_email_inbox(c)
    sam, token = await make_agent(c)
    async with httpx.AsyncClient(base_url=served, headers=auth(token)) as client:
        r = await client.post("/api/v1/teams", json={"name": "Billing"})
        assert r.status_code == 201, r.text
        team = r.json()
        assert (team["name"], team["member_ids"], team["inbox_ids"]) == ("Billing", [], [])
        again = await client.post("/api/v1/teams", json={"name": "Billing"})
        assert again.status_code == 409
        r = await client.put(
            f"/api/v1/teams/{team['id']}/members", json={"user_ids": [sam, sam + 99]}
        )
        assert r.status_code == 422
        assert str(sam + 99) in r.text
        r = await client.put(f"/api/v1/teams/{team['id']}/members", json={"user_ids": [sam]})
        assert r.json()["member_ids"] == [sam]
        r = await client.put(f"/api/v1/teams/{team['id']}/inboxes", json={"inbox_ids": [inbox]})
        assert r.json()["inbox_ids"] == [inbox]
        listed = (await client.get("/api/v1/teams")).json()
        assert [(t["name"], t["member_ids"], t["inbox_ids"]) for t in listed] == [
            ("Billing", [sam], [inbox])
        ]
        r = await client.put("/api/v1/teams/999/inboxes", json={"inbox_ids": []})
        assert r.status_code == 404
        r = await client.put("/api/v1/users/999/inbox-scope", json={"all_inboxes": False})
        assert r.status_code == 404


async def test_team_bodies_are_bounded(container: Container, served: str) -> None:
    _, token = await make_agent(container)
    async with httpx.AsyncClient(base_url=served, headers=auth(token)) as client:
        team = (await client.post("/api/v1/teams", json={"name": "Billing"})).json()
        r = await client.put(
            f"/api/v1/teams/{team['id']}/members", json={"user_ids": list(range(1001))}
        )
        assert r.status_code == 400
        assert (await client.post("/api/v1/teams", json={"name": ""})).status_code == 400
        assert (await client.post("/api/v1/teams", json={"name": "x" * 201})).status_code == 400
