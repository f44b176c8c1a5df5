"""The admin settings pages for agents, teams and API tokens, driven as a browser
drives them; each change is checked where users feel it: signing in, the REST
API, the inboxes an agent sees. Inboxes: test_settings_inboxes.py."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from tests.support.factories import make_api_inbox, make_email_inbox
from tests.support.settings_ui import (
    PAGES,
    Browser,
    audit,
    can_sign_in,
    signed_in_admin,
    user_id,
)
from tests.support.ui import csrf_token, make_user, sign_in

from threadline.actions.users import issue_token
from threadline.bootstrap import Container
from threadline.storage.tables import users
from threadline.web.app import create_app

pytestmark = pytest.mark.anyio


@pytest.fixture
async def admin(container: Container, served: str) -> AsyncIterator[Browser]:
    async with signed_in_admin(container, served) as browser:
        yield browser


async def test_an_admin_adds_an_agent_who_can_sign_in_and_the_add_is_audited(
    container: Container, served: str, admin: Browser
) -> None:
    short = await admin.post(
        "/settings/agents",
        {"name": "Bo", "email": "bo@acme.test", "role": "agent", "password": "too short"},
    )
    assert short.status_code == 422
    assert "the password needs 12 to 1024 characters" in short.text
    assert 'value="bo@acme.test"' in short.text  # typed again for them, but never the password

    added = await admin.post(
        "/settings/agents",
        {
            "name": "Bo Lind",
            "email": "Bo@Acme.test",
            "role": "agent",
            "password": "  spaced pass 1 ",
        },
    )
    assert added.status_code == 303
    assert added.headers["location"] == "/settings/agents?done=agent_added"
    page = await admin.get("/settings/agents")
    assert "Bo Lind" in page.text
    assert "bo@acme.test" in page.text
    assert "The agent was added" in (await admin.get(added.headers["location"])).text
    # Hashed by the container's argon2, spaces and all, and it signs in.
    assert await can_sign_in(served, "bo@acme.test", "  spaced pass 1 ")
    assert not await can_sign_in(served, "bo@acme.test", "spaced pass 1")
    ada = await user_id(container, "ada@acme.test")
    *_, (who, subject, data) = await audit(container, "user.add")
    assert (who, subject, data) == (
        f"user:{ada}",
        f"user:{await user_id(container, 'bo@acme.test')}",
        {"email": "bo@acme.test", "role": "agent"},
    )
    again = await admin.post(
        "/settings/agents",
        {"name": "Bo", "email": "bo@acme.test", "role": "agent", "password": "x" * 12},
    )
    assert again.status_code == 409
    assert "a user with the email bo@acme.test exists" in again.text


async def test_deactivating_an_agent_ends_her_session_and_tokens_until_reactivated(
    container: Container, served: str, admin: Browser
) -> None:
    c = container
    rosa = await make_user(c, "rosa@acme.test")
    token = await c.bus.execute(
        lambda tx: issue_token(tx, email="rosa@acme.test", name="crm", actor="t")
    )
    api = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=served) as her:
        assert (await sign_in(her, "rosa@acme.test")).status_code == 302
        assert (await her.get("/")).headers["location"] == "/inbox"

        r = await admin.post(f"/settings/agents/{rosa}/deactivate")
        assert r.status_code == 303
        assert (await her.get("/")).headers["location"] == "/login"  # signed out at once
        assert (await her.get("/api/v1/inboxes", headers=api)).status_code == 401
        assert not await can_sign_in(served, "rosa@acme.test")
        assert "Deactivated" in (await admin.get("/settings/agents")).text

        assert (await admin.post(f"/settings/agents/{rosa}/reactivate")).status_code == 303
        assert await can_sign_in(served, "rosa@acme.test")
        assert (await her.get("/api/v1/inboxes", headers=api)).status_code == 200
    actions = [(a.subject, a.data) for a in await audit(c, "user.deactivate")]
    assert actions == [(f"user:{rosa}", {"sessions_ended": 1})]
    assert [a.subject for a in await audit(c, "user.reactivate")] == [f"user:{rosa}"]


async def test_a_role_change_holds_from_the_next_request(
    container: Container, served: str, admin: Browser
) -> None:
    sam = await make_user(container, "sam@acme.test")
    async with httpx.AsyncClient(base_url=served) as his:
        await sign_in(his, "sam@acme.test")
        assert (await his.get("/settings")).status_code == 403
        assert (
            await admin.post(f"/settings/agents/{sam}/role", {"role": "admin"})
        ).status_code == 303
        assert (await his.get("/settings")).status_code == 200
    bad = await admin.post(f"/settings/agents/{sam}/role", {"role": "owner"})
    assert bad.status_code == 422
    assert "role must be one of admin, agent, viewer" in bad.text
    assert (await admin.post("/settings/agents/999999/role", {"role": "agent"})).status_code == 404


async def test_an_admin_cannot_lock_themselves_out(
    container: Container, served: str, admin: Browser
) -> None:
    ada = await user_id(container, "ada@acme.test")
    for path, data in (
        (f"/settings/agents/{ada}/deactivate", {}),
        (f"/settings/agents/{ada}/role", {"role": "agent"}),
    ):
        r = await admin.post(path, data)
        assert r.status_code == 422
        assert "You cannot take away your own admin access" in r.text
    assert (await admin.get("/settings")).status_code == 200


async def test_a_team_restricts_an_agent_to_its_inboxes(
    container: Container, served: str, admin: Browser
) -> None:
    c = container
    support = await make_email_inbox(c)
    app = await make_api_inbox(c)
    rosa = await make_user(c, "rosa@acme.test")
    token = await c.bus.execute(
        lambda tx: issue_token(tx, email="rosa@acme.test", name="t", actor="t")
    )
    api = {"Authorization": f"Bearer {token}"}

    async def her_inboxes() -> set[int]:
        r = await admin.client.get("/api/v1/inboxes", headers=api)
        return {i["id"] for i in r.json()}

    assert await her_inboxes() == {support, app}
    created = await admin.post("/settings/teams", {"name": "Billing"})
    assert created.status_code == 303
    team = int(created.headers["location"].rsplit("#team-", 1)[1])
    saved = await admin.post(
        f"/settings/teams/{team}", {"user_ids": [str(rosa)], "inbox_ids": [str(support)]}
    )
    assert saved.status_code == 303
    assert await her_inboxes() == {support, app}  # membership alone restricts nobody
    assert (
        await admin.post(f"/settings/agents/{rosa}/scope", {"all_inboxes": "0"})
    ).status_code == 303
    assert await her_inboxes() == {support}
    page = (await admin.get("/settings/teams")).text
    assert f'name="user_ids" value="{rosa}" checked' in page
    assert f'name="inbox_ids" value="{support}" checked' in page
    assert f'name="inbox_ids" value="{app}">' in page
    assert "Billing" in (await admin.get("/settings/agents")).text
    unknown = await admin.post(f"/settings/teams/{team}", {"user_ids": ["999999"]})
    assert unknown.status_code == 422
    assert "no user with the id 999999" in unknown.text
    assert (await admin.post("/settings/teams", {"name": "Billing"})).status_code == 409
    assert [a.subject for a in await audit(c, "team.members")] == [f"team:{team}"]
    assert [a.data for a in await audit(c, "user.inbox_scope")] == [{"all_inboxes": False}]


async def test_a_new_token_is_shown_once_works_on_the_api_and_fails_once_revoked(
    container: Container, served: str, admin: Browser
) -> None:
    ada = await user_id(container, "ada@acme.test")
    issued = await admin.post("/settings/tokens", {"user_id": str(ada), "name": "CRM sync"})
    assert issued.status_code == 201
    assert issued.headers["cache-control"] == "no-store"
    found = re.search(r'data-copy="(tl_[A-Za-z0-9_-]+)"', issued.text)
    assert found
    token = found[1]
    api = {"Authorization": f"Bearer {token}"}
    assert (await admin.client.get("/api/v1/inboxes", headers=api)).status_code == 200
    listed = (await admin.get("/settings/tokens")).text
    assert "CRM sync" in listed
    assert token not in listed
    token_id = int(re.findall(r'id="token-(\d+)"', listed)[0])
    revoked = await admin.post(f"/settings/tokens/{token_id}/revoke")
    assert revoked.status_code == 303
    assert (await admin.client.get("/api/v1/inboxes", headers=api)).status_code == 401
    assert "Revoked" in (await admin.get("/settings/tokens")).text
    [(who, subject, data)] = await audit(container, "token.revoke")
    assert (who, subject, data) == (
        f"user:{ada}",
        f"user:{ada}",
        {"token_id": token_id, "name": "CRM sync"},
    )
    assert (await admin.post("/settings/tokens/999999/revoke")).status_code == 404
    nobody = await admin.post("/settings/tokens", {"name": "x"})
    assert nobody.status_code == 422
    assert "pick whose token it is" in nobody.text


def _posts(c: Container) -> list[str]:
    return [
        path.replace("{user_id:int}", "1")
        .replace("{team_id:int}", "1")
        .replace("{token_id:int}", "1")
        .replace("{inbox_id:int}", "1")
        .replace("{rule_id:int}", "1")
        .replace("{provider:str}", "twilio_sms")
        .replace("{channel:str}", "email")
        for route in create_app(c, manage_lifecycle=False).routes
        if (path := route.path).startswith("/settings")
        and "POST" in getattr(route, "route_handler_map", {})
    ]


@pytest.mark.parametrize("role", ["agent", "viewer"])
async def test_agents_and_viewers_are_refused_every_settings_page_and_form(
    container: Container, served: str, role: str
) -> None:
    c = container
    admin_id = await make_user(c, "ada@acme.test", role="admin")
    await make_user(c, "sam@acme.test", role=role)
    await make_email_inbox(c)
    posts = _posts(c)
    # each form of every settings page: chat setup, the redirect, rules, SLA, off
    # hours, triage, intake, assignment
    assert len(posts) == 28
    async with httpx.AsyncClient(base_url=served) as client:
        await sign_in(client, "sam@acme.test")
        for path in PAGES:
            r = await client.get(path)
            assert r.status_code == 403, path
            assert "Admins only" in r.text
        token = await csrf_token(client, "/settings")
        for path in posts:
            data = {"_csrf_token": token, "role": role, "user_id": "1", "name": "x"}
            assert (await client.post(path, data=data)).status_code == 403, path
    async with httpx.AsyncClient(base_url=served) as anon:
        for path in PAGES:
            r = await anon.get(path)
            assert r.status_code == 302
            assert r.headers["location"] == f"/login?next={path}"
        for path in posts:
            assert (await anon.post(path, data={"name": "x"})).status_code in (401, 403), path
    assert await can_sign_in(served, "ada@acme.test")
    assert (
        await c.db.read(
            lambda conn: conn.execute(
                sa.select(users.c.role).where(users.c.id == admin_id)
            ).scalar()
        )
        == "admin"
    )
    assert await audit(c, "team.add") == []
