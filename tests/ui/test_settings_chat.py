"""Setting up a live-chat inbox in Settings, as an admin's browser does it: create
it, copy the snippet, change its branding and origins, see the identity secret
only on request, regenerate it, and open the test page with the real widget.
The protocol: docs/widget.md; the validator: core/chat_config.py."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from markupsafe import escape
from tests.conftest import missing_service
from tests.support.factories import make_email_inbox, make_inbox
from tests.support.settings_ui import Browser, audit, signed_in_admin, user_id
from tests.support.ui import make_user, sign_in

from threadline.actions.inboxes import load_inbox
from threadline.bootstrap import Container
from threadline.core.chat_config import identity_hash, parse_chat_config, widget_snippet
from threadline.storage.tables import inboxes
from threadline.web.ui.settings_chat import NODE_SAMPLE, PYTHON_SAMPLE

pytestmark = pytest.mark.anyio

README = Path(__file__).resolve().parents[2] / "README.md"
FORM = {
    "name": "Acme chat",
    "address": "acme-site",
    "allowed_origins": "https://Shop.Acme.example/\r\nhttp://localhost:3000",
    "color": "#FF5500",
    "greeting": "Hello <b>there</b>! Ask us anything.",
    "avatar_url": "https://cdn.acme.example/ada.png",
    "position": "left",
    "prechat": "required",
}


@pytest.fixture
async def admin(container: Container, served: str) -> AsyncIterator[Browser]:
    async with signed_in_admin(container, served) as browser:
        yield browser


async def _stored(c: Container, inbox_id: int) -> Any:
    return await c.db.read(
        lambda conn: conn.execute(sa.select(inboxes).where(inboxes.c.id == inbox_id)).one()
    )


async def _opened(c: Container, inbox_id: int) -> dict[str, Any]:
    return dict(load_inbox(await _stored(c, inbox_id), c.bus.cfg.secret_key).config)


async def _create(admin: Browser, form: dict[str, str] = FORM) -> int:
    r = await admin.post("/settings/inboxes/connect/chat", form)
    assert r.status_code == 303, r.text
    found = re.fullmatch(r"/settings/inboxes/(\d+)/chat\?done=chat_added", r.headers["location"])
    assert found, r.headers["location"]
    return int(found[1])


async def test_an_admin_creates_a_chat_inbox_and_gets_the_snippet_with_its_key(
    container: Container, served: str, admin: Browser
) -> None:
    inbox_id = await _create(admin)
    page = await admin.get(f"/settings/inboxes/{inbox_id}/chat?done=chat_added")
    assert page.status_code == 200
    snippet = f'<script src="{served}/widget.js" data-inbox="acme-site" async></script>'
    assert widget_snippet(served, "acme-site") == snippet
    assert f'data-copy="{escape(snippet)}"' in page.text  # the copy button
    assert "Paste the snippet into your site" in page.text
    # The preview is drawn with what was saved; the greeting is text, never markup.
    assert 'class="chat-preview left"' in page.text
    assert "Hello &lt;b&gt;there&lt;/b&gt;! Ask us anything." in page.text
    assert "<b>there</b>" not in page.text
    # The avatar may come from anywhere https: the page's policy lets the preview show it.
    assert "img-src 'self' data: https:;" in page.headers["content-security-policy"]
    assert "script-src 'self';" in page.headers["content-security-policy"]

    stored = await _stored(container, inbox_id)
    assert (stored.channel, stored.address, stored.name) == ("chat", "acme-site", "Acme chat")
    assert stored.config["identity_secret"].startswith("enc:v1:")  # sealed at rest
    config = parse_chat_config(await _opened(container, inbox_id))
    assert config.allowed_origins == ("https://shop.acme.example", "http://localhost:3000")
    assert (config.color, config.position, config.prechat) == ("#ff5500", "left", "required")
    assert config.identity_secret not in page.text  # not until asked for
    [(who, subject, data)] = await audit(container, "inbox.add")
    assert (who, subject) == (
        f"user:{await user_id(container, 'ada@acme.test')}",
        f"inbox:{inbox_id}",
    )
    assert config.identity_secret not in str(data)
    # The inboxes page lists it with the same snippet and the way to its setup.
    listing = (await admin.get("/settings/inboxes")).text
    assert f'data-copy="{escape(snippet)}"' in listing
    assert f'href="/settings/inboxes/{inbox_id}/chat"' in listing
    assert config.identity_secret not in listing


async def test_an_empty_key_gets_one_made_up_and_defaults_fill_the_rest(
    container: Container, admin: Browser
) -> None:
    inbox_id = await _create(admin, {"name": "", "allowed_origins": "https://a.example"})
    stored = await _stored(container, inbox_id)
    assert re.fullmatch(r"chat_[0-9a-f]{16}", stored.address)
    assert stored.name == "Live chat"
    config = parse_chat_config(await _opened(container, inbox_id))
    assert config.public() == {
        "color": "#2563eb",
        "greeting": "Hi! How can we help?",
        "avatar_url": "",
        "position": "right",
        "prechat": "optional",
    }


@pytest.mark.parametrize(
    ("origins", "said"),
    [
        ("https://shop.acme.example/checkout", "has no path"),
        ("http://shop.acme.example", "use https"),
        ("https://*.acme.example", "no wildcards"),
        ("\n".join(f"https://s{i}.example" for i in range(21)), "at most 20, got 21"),
    ],
)
async def test_a_bad_origin_is_refused_with_a_clear_error_and_the_form_kept(
    container: Container, admin: Browser, origins: str, said: str
) -> None:
    refused = await admin.post(
        "/settings/inboxes/connect/chat", {**FORM, "allowed_origins": origins}
    )
    assert refused.status_code == 422
    assert said in refused.text
    assert "Live chat (website widget): allowed origins:" in refused.text
    # What was typed is there to correct, in the open chat form.
    assert f">{escape(origins.splitlines()[0])}" in refused.text
    assert 'value="acme-site"' in refused.text
    assert "Hello &lt;b&gt;there&lt;/b&gt;! Ask us anything.</textarea>" in refused.text
    assert re.search(r'<details class="provider" open>\s*<summary>.*Live chat', refused.text)
    count = await container.db.read(
        lambda conn: conn.execute(sa.select(sa.func.count()).select_from(inboxes)).scalar()
    )
    assert count == 0


async def test_editing_branding_and_origins_reseals_the_config_and_is_audited(
    container: Container, admin: Browser
) -> None:
    hours = {"timezone": "Europe/Berlin", "days": {"mon": [["09:00", "17:00"]]}}
    inbox_id = await make_inbox(
        container,
        "chat",
        "Site",
        "site-chat",
        {"allowed_origins": ["https://a.example"], "hours": hours},
    )
    before = await _opened(container, inbox_id)
    page = await admin.get(f"/settings/inboxes/{inbox_id}/chat")
    assert ">https://a.example</textarea>" in page.text
    saved = await admin.post(
        f"/settings/inboxes/{inbox_id}/chat",
        {
            "name": "Site chat",
            "allowed_origins": "https://a.example https://b.example:8443",
            "color": "#000000",
            "greeting": "Back soon",
            "avatar_url": "",
            "position": "right",
            "prechat": "off",
        },
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/settings/inboxes/{inbox_id}/chat?done=chat_saved"
    after = await _opened(container, inbox_id)
    assert after["allowed_origins"] == ["https://a.example", "https://b.example:8443"]
    assert (after["color"], after["greeting"], after["prechat"]) == ("#000000", "Back soon", "off")
    assert after["hours"] == hours  # not the chat form's to drop
    assert after["identity_secret"] == before["identity_secret"]  # untouched by a branding edit
    assert (await _stored(container, inbox_id)).config["identity_secret"].startswith("enc:v1:")
    assert (await _stored(container, inbox_id)).name == "Site chat"
    served_now = (await container.bus.inbox(inbox_id)).config  # the bus serves the change
    assert served_now["greeting"] == "Back soon"
    [(who, subject, data)] = await audit(container, "inbox.update")
    assert (who, subject) == (
        f"user:{await user_id(container, 'ada@acme.test')}",
        f"inbox:{inbox_id}",
    )
    assert data == {
        "channel": "chat",
        "changed": ["allowed_origins", "color", "greeting", "prechat", "name"],
    }

    refused = await admin.post(
        f"/settings/inboxes/{inbox_id}/chat",
        {"name": "Site chat", "allowed_origins": "https://ana@a.example", "color": "#123456"},
    )
    assert refused.status_code == 422
    assert "no user name or password in an origin" in refused.text
    assert ">https://ana@a.example</textarea>" in refused.text  # kept to correct
    assert 'value="#123456"' in refused.text
    assert await _opened(container, inbox_id) == after  # nothing half-saved


async def test_the_secret_shows_only_on_request_and_regenerating_replaces_it(
    container: Container, admin: Browser
) -> None:
    inbox_id = await _create(admin)
    secret = (await _opened(container, inbox_id))["identity_secret"]
    page = (await admin.get(f"/settings/inboxes/{inbox_id}/chat")).text
    assert secret not in page
    assert "Reveal the identity secret" in page
    shown = await admin.post(f"/settings/inboxes/{inbox_id}/chat/secret", htmx=True)
    assert shown.status_code == 200
    assert f'data-copy="{secret}"' in shown.text
    assert "<h1>" not in shown.text  # the fragment, not the page
    whole = await admin.post(f"/settings/inboxes/{inbox_id}/chat/secret")
    assert secret in whole.text
    assert "<h1>" in whole.text
    assert len(await audit(container, "inbox.secret_revealed")) == 2

    page = (await admin.get(f"/settings/inboxes/{inbox_id}/chat")).text
    assert 'data-confirm="Make a new identity secret?' in page
    renewed = await admin.post(f"/settings/inboxes/{inbox_id}/chat/secret/new")
    assert renewed.status_code == 303
    assert renewed.headers["location"].endswith("?done=chat_secret_new#identity")
    fresh = (await _opened(container, inbox_id))["identity_secret"]
    assert fresh != secret
    assert len(fresh) >= 32
    signed = identity_hash(secret, "u42", "ana@example.com")
    assert identity_hash(fresh, "u42", "ana@example.com") != signed  # the old one no longer fits
    *_, (_, _, data) = await audit(container, "inbox.update")
    assert data == {"channel": "chat", "changed": ["identity_secret"]}
    assert secret not in str(data)
    assert fresh not in str(data)


async def test_the_test_page_embeds_the_real_widget_for_this_inbox(
    container: Container, served: str, admin: Browser
) -> None:
    inbox_id = await _create(admin)
    r = await admin.get(f"/settings/inboxes/{inbox_id}/test-page")
    assert r.status_code == 200
    assert f'<script src="{served}/widget.js" data-inbox="acme-site" async></script>' in r.text
    policy = r.headers["content-security-policy"]
    assert f"script-src 'self' {served};" in policy
    assert f"connect-src 'self' {served} ws{served.removeprefix('http')};" in policy
    assert "frame-ancestors 'none'" in policy
    setup = (await admin.get(f"/settings/inboxes/{inbox_id}/chat")).text
    assert f'href="/settings/inboxes/{inbox_id}/test-page"' in setup


async def test_a_chat_page_for_an_inbox_that_is_not_chat_is_not_found(
    container: Container, admin: Browser
) -> None:
    email = await make_email_inbox(container)
    for path in (f"/settings/inboxes/{email}/chat", f"/settings/inboxes/{email}/test-page"):
        assert (await admin.get(path)).status_code == 404, path
    for path in (f"/settings/inboxes/{email}/chat", f"/settings/inboxes/{email}/chat/secret"):
        assert (await admin.post(path, {"allowed_origins": ""})).status_code == 404, path
    assert (await admin.post(f"/settings/inboxes/{email}/chat/secret/new")).status_code == 404
    assert "webhook_secret" in (await _opened(container, email))  # and nothing was changed


async def test_only_an_admin_may_see_or_change_a_chat_inbox(
    container: Container, served: str, admin: Browser
) -> None:
    inbox_id = await _create(admin)
    before = await _opened(container, inbox_id)
    await make_user(container, "sam@acme.test", role="agent")
    async with httpx.AsyncClient(base_url=served) as sam:
        assert (await sign_in(sam, "sam@acme.test")).status_code == 302
        token = re.search(r'name="_csrf_token" value="([^"]+)"', (await sam.get("/inbox")).text)
        assert token
        for path in (
            f"/settings/inboxes/{inbox_id}/chat",
            f"/settings/inboxes/{inbox_id}/test-page",
        ):
            page = await sam.get(path)
            assert page.status_code == 403, path
            assert "Admins only" in page.text
        for path in ("chat", "chat/secret", "chat/secret/new"):
            r = await sam.post(
                f"/settings/inboxes/{inbox_id}/{path}",
                data={"_csrf_token": token[1], "color": "#000000"},
            )
            assert r.status_code == 403, path
            assert before["identity_secret"] not in r.text
        r = await sam.post(
            "/settings/inboxes/connect/chat",
            data={"_csrf_token": token[1], **FORM, "address": "x-y-z"},
        )
        assert r.status_code == 403
    assert await _opened(container, inbox_id) == before
    assert await audit(container, "inbox.secret_revealed") == []


async def test_a_form_without_the_csrf_token_is_refused(
    container: Container, served: str, admin: Browser
) -> None:
    inbox_id = await _create(admin)
    r = await admin.client.post(f"/settings/inboxes/{inbox_id}/chat/secret/new")
    assert r.status_code == 403
    r = await admin.client.post(f"/settings/inboxes/{inbox_id}/chat/secret")
    assert r.status_code == 403
    assert await audit(container, "inbox.secret_revealed") == []


def test_the_python_sample_signs_as_the_server_verifies(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "a-secret-of-at-least-32-characters-long"
    monkeypatch.setenv("THREADLINE_CHAT_SECRET", secret)
    scope: dict[str, Any] = {}
    exec(compile(PYTHON_SAMPLE, "sample.py", "exec"), scope)  # the code the page shows
    signed = scope["threadline_identity"]("u42", "ana@example.com")
    assert signed == {
        "user_id": "u42",
        "email": "ana@example.com",
        "hash": identity_hash(secret, "u42", "ana@example.com"),
    }


def test_the_node_sample_signs_as_the_server_verifies() -> None:
    node = shutil.which("node")
    if node is None:
        missing_service("node", "Node.js is not installed")
    secret = "a-secret-of-at-least-32-characters-long"
    script = NODE_SAMPLE + 'console.log(threadlineIdentity("u42", "ana@example.com").hash);\n'
    out = subprocess.run(
        [str(node), "-e", script],
        env={"THREADLINE_CHAT_SECRET": secret},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    assert out == identity_hash(secret, "u42", "ana@example.com")


def test_the_readme_shows_the_same_python_sample() -> None:
    assert PYTHON_SAMPLE in README.read_text()
