"""Sessions live on the server: logout ends every copy of the cookie, a role change
or a deactivation holds on the next request (UI and API tokens alike), the CSRF
token belongs to one session, and cookies are Secure behind https."""

from __future__ import annotations

import re

import httpx
import pytest
from tests.support.factories import api_client, make_agent
from tests.support.ui import csrf_token, make_user, sign_in

from threadline.actions.users import deactivate_user, set_role
from threadline.bootstrap import Container, bootstrap
from threadline.clock import FakeClock
from threadline.settings import Settings
from threadline.web.sessions import CSRF_COOKIE, SESSION_COOKIE

pytestmark = pytest.mark.anyio


def cookies_of(client: httpx.AsyncClient) -> dict[str, str]:
    return {cookie.name: str(cookie.value) for cookie in client.cookies.jar}


async def test_logout_from_one_copy_ends_every_copy(container: Container) -> None:
    c = container
    await make_user(c, "ana@acme.test")
    async with api_client(c) as first, api_client(c) as copy:
        assert (await sign_in(first, "ana@acme.test")).status_code == 302
        stolen = cookies_of(first)
        for name, value in stolen.items():
            copy.cookies.set(name, value)
        assert (await copy.get("/inbox", follow_redirects=False)).status_code == 200
        token = await csrf_token(first, "/inbox")
        out = await first.post("/logout", data={"_csrf_token": token}, follow_redirects=False)
        assert out.headers["location"] == "/login"
        after = await copy.get("/inbox", follow_redirects=False)
        assert after.status_code == 302
        assert after.headers["location"] == "/login?next=/inbox"


async def test_role_change_and_deactivation_hold_on_the_next_ui_request(
    container: Container,
) -> None:
    c = container
    await make_user(c, "ada@acme.test", role="admin")
    async with api_client(c) as web:
        assert (await sign_in(web, "ada@acme.test")).status_code == 302
        assert (await web.get("/simulator")).status_code == 200
        await c.bus.execute(lambda tx: set_role(tx, email="ada@acme.test", role="agent", actor="t"))
        assert (await web.get("/simulator")).status_code == 403
        assert (await web.get("/inbox", follow_redirects=False)).status_code == 200
        await c.bus.execute(lambda tx: deactivate_user(tx, email="ada@acme.test", actor="t"))
        gone = await web.get("/inbox", follow_redirects=False)
        assert gone.headers["location"] == "/login?next=/inbox"
        # and a deactivated user cannot sign back in
        again = await sign_in(web, "ada@acme.test")
        assert "Wrong email or password" in again.text


async def test_role_change_and_deactivation_hold_on_the_next_token_request(
    container: Container,
) -> None:
    c = container
    _, token = await make_agent(c, "ops@acme.test", role="admin")
    auth = {"Authorization": f"Bearer {token}"}
    async with api_client(c) as api:
        assert (await api.get("/api/v1/receipts", headers=auth)).status_code == 200
        await c.bus.execute(lambda tx: set_role(tx, email="ops@acme.test", role="agent", actor="t"))
        assert (await api.get("/api/v1/receipts", headers=auth)).status_code == 403
        assert (await api.get("/api/v1/conversations", headers=auth)).status_code == 200
        await c.bus.execute(lambda tx: deactivate_user(tx, email="ops@acme.test", actor="t"))
        assert (await api.get("/api/v1/conversations", headers=auth)).status_code == 401


async def test_a_csrf_token_from_another_session_is_refused(container: Container) -> None:
    """Even when the attacker plants their own CSRF cookie beside the victim's session
    (the double-submit check alone then passes), the session's own token decides."""
    c = container
    await make_user(c, "ana@acme.test")
    await make_user(c, "eve@acme.test")
    async with api_client(c) as ana, api_client(c) as eve, api_client(c) as forged:
        await sign_in(ana, "ana@acme.test")
        await sign_in(eve, "eve@acme.test")
        eves_token = await csrf_token(eve, "/inbox")
        victim = cookies_of(ana)[SESSION_COOKIE]
        planted = {"Cookie": f"{SESSION_COOKIE}={victim}; {CSRF_COOKIE}={eves_token}"}
        refused = await forged.post(
            "/logout", data={"_csrf_token": eves_token}, headers=planted, follow_redirects=False
        )
        assert refused.status_code == 403
        assert (await ana.get("/inbox", follow_redirects=False)).status_code == 200
        own = await csrf_token(ana, "/inbox")
        out = await ana.post("/logout", data={"_csrf_token": own}, follow_redirects=False)
        assert out.status_code == 302


def set_cookies(response: httpx.Response) -> dict[str, str]:
    found = {}
    for header in response.headers.get_list("set-cookie"):
        found[header.split("=", 1)[0]] = header
    return found


@pytest.mark.parametrize(
    ("public_url", "secure"), [("https://help.acme.test", True), (None, False)]
)
async def test_cookies_are_secure_when_the_public_url_is_https(
    settings: Settings, clock: FakeClock, public_url: str | None, secure: bool
) -> None:
    c = bootstrap(settings.model_copy(update={"public_url": public_url}), clock=clock)
    await c.start(jobs=False)
    try:
        await make_user(c, "ana@acme.test")
        async with api_client(c) as web:
            form = await web.get("/login")
            token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
            assert token
            signed = await web.post(
                "/login",
                data={
                    "email": "ana@acme.test",
                    "password": "correct horse battery",
                    "_csrf_token": token[1],
                },
                # a Secure cookie does not travel back over the test's http: send it by hand
                headers={"Cookie": f"{CSRF_COOKIE}={token[1]}"},
                follow_redirects=False,
            )
        assert signed.status_code == 302
        cookies = {**set_cookies(form), **set_cookies(signed)}
        for name in (SESSION_COOKIE, CSRF_COOKIE):
            assert ("; secure" in cookies[name].lower()) is secure, cookies[name]
        assert "httponly" in cookies[SESSION_COOKIE].lower()
    finally:
        await c.aclose()


async def test_signing_in_again_gives_a_fresh_session_and_ends_the_old_one(
    container: Container,
) -> None:
    c = container
    await make_user(c, "ana@acme.test")
    async with api_client(c) as web, api_client(c) as old_copy:
        await sign_in(web, "ana@acme.test")
        first = cookies_of(web)[SESSION_COOKIE]
        old_copy.cookies.set(SESSION_COOKIE, first)
        assert (await old_copy.get("/inbox", follow_redirects=False)).status_code == 200
        assert (await sign_in(web, "ana@acme.test")).status_code == 302
        assert cookies_of(web)[SESSION_COOKIE] != first
        assert (await web.get("/inbox", follow_redirects=False)).status_code == 200
        assert (await old_copy.get("/inbox", follow_redirects=False)).status_code == 302
