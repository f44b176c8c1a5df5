"""The workspace's pages as a browser gets them: headers, errors, sign-in targets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar.plugins.jinja import JinjaTemplateEngine
from tests.support.factories import api_client
from tests.support.ui import csrf_token, make_user, sign_in

from threadline.bootstrap import Container
from threadline.web.app import create_app
from threadline.web.ui.errors import CSP
from threadline.web.ui.render import TEMPLATES, warm_templates

pytestmark = pytest.mark.anyio


async def test_an_unknown_page_is_a_friendly_html_404_and_an_unknown_api_path_stays_json(
    container: Container,
) -> None:
    async with api_client(container) as web:
        page = await web.get("/no/such/page")
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert "Back to the inbox" in page.text
        api = await web.get("/api/v1/no/such/thing")
        assert api.status_code == 404
        assert api.headers["content-type"].startswith("application/json")


async def test_every_page_carries_a_strict_content_security_policy(container: Container) -> None:
    await make_user(container, "ada@acme.test", role="admin")
    async with api_client(container) as web:
        await sign_in(web, "ada@acme.test")
        for path in ("/login", "/inbox", "/search?q=x", "/settings", "/nothing-here"):
            answer = await web.get(path)
            assert answer.headers.get("content-security-policy") == CSP, path
            assert "'unsafe-inline'" not in answer.headers["content-security-policy"]
            # no inline script or style can sneak in: the policy would block it anyway
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", answer.text), path
            assert " style=" not in answer.text, path


@pytest.mark.parametrize(
    ("target", "lands"),
    [
        ("/search?q=zip", "/search?q=zip"),
        ("//evil.example/phish", "/inbox"),
        ("https://evil.example/", "/inbox"),
        ("/\\evil.example", "/inbox"),
        ("/inbox\r\nSet-Cookie: tl_session=x", "/inbox"),
    ],
)
async def test_signing_in_goes_back_to_the_page_asked_for_and_never_off_site(
    container: Container, target: str, lands: str
) -> None:
    await make_user(container, "ada@acme.test", role="agent")
    async with api_client(container) as web:
        token = await csrf_token(web)
        answer = await web.post(
            "/login",
            data={
                "email": "ada@acme.test",
                "password": "correct horse battery",
                "_csrf_token": token,
                "next": target,
            },
            follow_redirects=False,
        )
        assert answer.status_code == 302
        assert answer.headers["location"] == lands


async def test_static_files_are_served_by_their_fingerprinted_url(container: Container) -> None:
    await make_user(container, "ada@acme.test", role="agent")
    async with api_client(container) as web:
        await sign_in(web, "ada@acme.test")
        page = await web.get("/inbox")
        urls = re.findall(r'(?:src|href)="(/static/[^"]+\?v=[0-9a-f]{12})"', page.text)
        assert {u.split("?")[0] for u in urls} == {
            "/static/app.css",
            "/static/app.js",
            "/static/vendor/htmx.min.js",
        }
        for url in urls:
            assert (await web.get(url)).status_code == 200, url


async def test_the_server_compiles_every_template_before_its_first_request(
    container: Container,
) -> None:
    """`threadline serve` warms the templates (web/ui/render.py), so a template that
    does not compile fails at start rather than for the first person who opens it."""
    app = create_app(container, manage_lifecycle=False)
    on_disk = {p.relative_to(TEMPLATES).as_posix() for p in Path(TEMPLATES).rglob("*.html")}
    assert warm_templates(app) == len(on_disk) > 40
    engine = app.template_engine
    assert isinstance(engine, JinjaTemplateEngine)
    cached = {t.name for t in engine.engine.cache.values()}  # type: ignore[union-attr]
    assert on_disk <= cached
