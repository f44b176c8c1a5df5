"""The settings page for inboxes: connecting one per provider, the webhook URL to
paste, secrets that go in and never come out, and "test credentials" asking the
provider (here the local sandbox stand-ins and a local SMTP relay)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from tests.support.factories import make_email_inbox, make_inbox
from tests.support.servers import Relay, free_port
from tests.support.settings_ui import PAGES, Browser, audit, signed_in_admin, user_id

from threadline.actions.errors import ActionError
from threadline.bootstrap import Container
from threadline.storage.tables import inboxes
from threadline.web.app import create_app
from threadline.web.ui.settings_providers import BY_KEY, PROVIDERS, parse_connect, webhook_urls

pytestmark = pytest.mark.anyio

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "twilio-auth-token-do-not-show"


@pytest.fixture
async def admin(container: Container, served: str) -> AsyncIterator[Browser]:
    async with signed_in_admin(container, served) as browser:
        yield browser


async def test_connecting_an_inbox_shows_the_url_to_paste_and_only_that_a_secret_is_set(
    container: Container, served: str, admin: Browser
) -> None:
    c = container
    refused = await admin.post(
        "/settings/inboxes/connect/twilio_sms",
        {"name": "SMS", "address": "+14155550100", "account_sid": "nope", "auth_token": TOKEN},
    )
    assert refused.status_code == 422
    assert "Account SID does not look right" in refused.text
    assert TOKEN not in refused.text  # the secret is not typed back into the page
    assert 'value="+14155550100"' in refused.text

    added = await admin.post(
        "/settings/inboxes/connect/twilio_sms",
        {"name": "Acme SMS", "address": "+1 415 555 0100", "account_sid": SID, "auth_token": TOKEN},
    )
    assert added.status_code == 303
    inbox_id = int(added.headers["location"].rsplit("#inbox-", 1)[1])
    page = (await admin.get("/settings/inboxes")).text
    url = f"{served}/webhooks/twilio/sms"
    assert f'<code class="copy" data-copy="{url}"' in page
    assert 'Auth token: <span class="verified">set</span>' in page
    assert TOKEN not in page
    assert SID not in page
    stored = await c.db.read(
        lambda conn: conn.execute(
            sa.select(inboxes.c.address, inboxes.c.config).where(inboxes.c.id == inbox_id)
        ).one()
    )
    assert stored.address == "+14155550100"
    assert stored.config["auth_token"].startswith("enc:v1:")  # sealed at rest
    assert (await c.bus.inbox(inbox_id)).config["auth_token"] == TOKEN  # and served at once
    [(who, subject, data)] = await audit(c, "inbox.add")
    assert subject == f"inbox:{inbox_id}"
    assert TOKEN not in str(data)
    assert who == f"user:{await user_id(c, 'ada@acme.test')}"
    twice = await admin.post(
        "/settings/inboxes/connect/twilio_sms",
        {"address": "+14155550100", "account_sid": SID, "auth_token": TOKEN},
    )
    assert twice.status_code == 409
    assert "a sms inbox for +14155550100 exists" in twice.text
    assert (await admin.post("/settings/inboxes/connect/fax", {})).status_code == 404


async def _connected(admin: Browser, provider: str, form: dict[str, str]) -> int:
    r = await admin.post(f"/settings/inboxes/connect/{provider}", form)
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("#inbox-", 1)[1])


async def _check(admin: Browser, inbox_id: int) -> str:
    r = await admin.post(f"/settings/inboxes/{inbox_id}/check", htmx=True)
    assert r.status_code == 200
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", r.text)).strip()


META = {"app_secret": "app-secret-x", "verify_token": "verify-x"}

BOT = "123456789:AAbbccddeeffgghhiijjkkllmmnnooppqqr"


@pytest.mark.parametrize(
    ("provider", "form", "wrong", "ok", "failed"),
    [
        (
            "twilio_sms",
            {"address": "+14155550100", "account_sid": SID, "auth_token": TOKEN},
            {"account_sid": SID, "auth_token": "not-the-token"},
            "OK: Twilio accepted the credentials for the account “Twilio SMS (sandbox)”.",
            "Failed: Twilio refused the Account SID and auth token (Authenticate).",
        ),
        (
            "whatsapp",
            {"address": "106540352242922", "access_token": "meta-token", **META},
            {"access_token": "stolen-token"},
            "OK: Meta accepted the access token: it belongs to “WhatsApp (Meta Cloud API)”.",
            "Failed: Meta refused the access token: Invalid OAuth access token - Cannot parse "
            "access token (WhatsApp error 190).",
        ),
        (
            "telegram",
            {"address": "acme_bot", "bot_token": BOT, "secret_token": "s3cret"},
            {"bot_token": "987654321:AAwrongwrongwrongwrongwrongwrongwro"},
            "OK: Telegram accepted the bot token for @threadline_sandbox_123456789_bot "
            "(the inbox calls it @acme_bot).",
            "Failed: Telegram refused the bot token: Unauthorized.",
        ),
    ],
)
async def test_test_credentials_asks_the_sandbox_provider_and_says_what_it_answered(
    container: Container,
    served: str,
    admin: Browser,
    provider: str,
    form: dict[str, str],
    wrong: dict[str, str],
    ok: str,
    failed: str,
) -> None:
    right = await _connected(admin, provider, {**form, "sandbox": "1"})
    assert await _check(admin, right) == ok
    # An inbox that is not a sandbox inbox, pointed at the stand-in with
    # credentials no sandbox inbox holds: the provider's own refusal.
    spec = BY_KEY[provider]
    api_base = {"sms": "twilio", "whatsapp": "meta", "telegram": "telegram"}[spec.channel]
    other = await make_inbox(
        container,
        spec.channel,
        "Other",
        form["address"][:-2] + "99",
        {**form, **wrong, "api_base": f"{served}/sandbox/{api_base}"},
    )
    assert await _check(admin, other) == failed
    # Without htmx: the whole page, with the answer under its inbox.
    page = await admin.post(f"/settings/inboxes/{right}/check")
    assert page.status_code == 200
    assert "<h1>Inboxes</h1>" in page.text
    assert ok.removeprefix("OK: ")[:30] in page.text


@pytest.fixture
def relay_port(relay: tuple[Relay, int]) -> int:
    return relay[1]


async def test_test_credentials_greets_the_email_relay_and_says_when_it_cannot(
    container: Container, served: str, admin: Browser, relay_port: int
) -> None:
    good = await _connected(
        admin,
        "email",
        {"address": "help@acme.test", "smtp.host": "127.0.0.1", "smtp.port": str(relay_port)},
    )
    assert await _check(admin, good) == (
        f"OK: The mail server 127.0.0.1:{relay_port} answered EHLO (without TLS)."
    )
    closed = free_port()
    bad = await _connected(
        admin,
        "email",
        {"address": "sales@acme.test", "smtp.host": "127.0.0.1", "smtp.port": str(closed)},
    )
    said = await _check(admin, bad)
    assert said.startswith(f"Failed: Could not reach the mail server 127.0.0.1:{closed}")
    none = await make_email_inbox(container, "info@acme.test")
    assert await _check(admin, none) == (
        "Failed: No outbound SMTP relay is set for this inbox or the server: email replies fail."
    )


async def test_no_settings_page_ever_shows_a_secret(
    container: Container, served: str, admin: Browser
) -> None:
    secrets = {
        "auth_token": TOKEN,
        "access_token": "meta-access-secret",
        "app_secret": "meta-app-secret",
        "verify_token": "meta-verify-secret",
        "webhook_secret": "email-hook-secret",
        "smtp.password": "smtp-password-secret",
        "bot_token": BOT,
        "secret_token": "telegram-secret-token",
    }
    forms = {
        "twilio_sms": {"address": "+14155550100", "account_sid": SID},
        "twilio_voice": {"address": "+14155550101", "account_sid": SID},
        "whatsapp": {"address": "1065"},
        "messenger": {"address": "1049"},
        "instagram": {"address": "1784"},
        "telegram": {"address": "acme_bot"},
        "email": {"address": "help@acme.test", "smtp.host": "127.0.0.1", "smtp.username": "me"},
        "api": {"address": "acme-app", "webhook_url": "https://example.com/hook"},
    }
    for provider, form in forms.items():
        spec = BY_KEY[provider]
        mine = {f.key: secrets[f.key] for f in spec.fields if f.secret}
        # sandbox: the checks ask the local stand-ins, never the internet
        await _connected(admin, provider, {**form, **mine, "sandbox": "1"})
        said = await _check(admin, await _last_inbox(container))
        assert not [v for v in secrets.values() if v in said], said
    ada = await user_id(container, "ada@acme.test")
    await admin.post("/settings/tokens", {"user_id": str(ada), "name": "one"})
    for path in PAGES:
        body = (await admin.get(path)).text
        for name, value in secrets.items():
            assert value not in body, (path, name)
        assert "enc:v1:" not in body, path


async def _last_inbox(c: Container) -> int:
    return int(
        await c.db.read(lambda conn: conn.execute(sa.select(sa.func.max(inboxes.c.id))).scalar())
    )


async def test_each_webhook_url_names_a_route_the_app_serves(container: Container) -> None:
    routes = {
        route.path.split("{")[0].rstrip("/")
        for route in create_app(container, manage_lifecycle=False).routes
    }
    for provider in PROVIDERS:
        urls = webhook_urls(provider.channel, 7, "https://desk.acme.test", "mx.acme.test:25")
        assert urls, provider.key
        for _, url in urls:
            if url.startswith("https://desk.acme.test"):
                path = url.removeprefix("https://desk.acme.test").removesuffix("/7")
                assert path in routes, url


def test_a_connect_form_becomes_the_config_the_channels_read() -> None:
    email = BY_KEY["email"]
    name, address, config = parse_connect(
        email,
        {
            "name": " Help ",
            "address": "help@acme.test",
            "smtp.host": "smtp.acme.test",
            "smtp.port": "2525",
            "smtp.password": "pw",
            "sandbox": "1",
        },
        sandbox_allowed=True,
    )
    assert (name, address) == ("Help", "help@acme.test")
    assert config == {"smtp": {"host": "smtp.acme.test", "port": 2525, "password": "pw"}}
    _, _, sms = parse_connect(
        BY_KEY["twilio_sms"],
        {"address": "+14155550100", "account_sid": SID, "auth_token": "t", "sandbox": "1"},
        sandbox_allowed=True,
    )
    assert sms == {"account_sid": SID, "auth_token": "t", "sandbox": True}
    _, _, real = parse_connect(
        BY_KEY["twilio_sms"],
        {"address": "+14155550100", "account_sid": SID, "auth_token": "t", "sandbox": "1"},
        sandbox_allowed=False,
    )
    assert "sandbox" not in real
    for form, said in (
        ({"address": "+14155550100", "auth_token": "t"}, "Account SID is required"),
        ({"address": "x", "smtp.port": "70000"}, "must be a port number"),
        ({"address": "x", "smtp.host": "h" * 1001}, "at most 1000 characters"),
    ):
        spec = email if "smtp.port" in form or "smtp.host" in form else BY_KEY["twilio_sms"]
        with pytest.raises(ActionError, match=said):
            parse_connect(spec, form, sandbox_allowed=False)
