"""Inbox secrets are sealed in the database, opened only where inboxes are loaded,
and never shown by the API or written to a log line."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
import sqlalchemy as sa
import structlog
from tests.channels.telegram.support import BOT_TOKEN, make_telegram_inbox
from tests.channels.telegram.support import SECRET as TELEGRAM_SECRET
from tests.channels.twilio_sms.support import AUTH_TOKEN, make_sms_inbox
from tests.support.factories import api_client, make_agent, make_email_inbox

from threadline.bootstrap import Container, bootstrap
from threadline.clock import FakeClock
from threadline.logs import configure_logging
from threadline.settings import Settings
from threadline.storage.tables import inboxes

pytestmark = pytest.mark.anyio
SMTP_PASSWORD = "smtp-relay-password-1"
SECRETS = (AUTH_TOKEN, BOT_TOKEN, TELEGRAM_SECRET, "hook-secret", SMTP_PASSWORD)


async def stored_configs(c: Container) -> dict[int, Any]:
    rows = await c.db.read(lambda conn: conn.execute(sa.select(inboxes)).all())
    return {r.id: r.config for r in rows}


async def make_inboxes(c: Container) -> tuple[int, int, int]:
    return (
        await make_sms_inbox(c),
        await make_telegram_inbox(c),
        await make_email_inbox(c, smtp={"host": "smtp.acme.test", "password": SMTP_PASSWORD}),
    )


async def test_inbox_secrets_are_encrypted_in_the_database_row(container: Container) -> None:
    c = container
    sms, tg, email = await make_inboxes(c)
    stored = await stored_configs(c)
    text = json.dumps(stored)
    for secret in SECRETS:
        assert secret not in text
    assert stored[sms]["auth_token"].startswith("enc:v1:")
    assert stored[email]["smtp"]["password"].startswith("enc:v1:")
    assert stored[sms]["sandbox"] is True  # the rest of the config stays plain
    # The adapters get them in the clear, from the one place inboxes are loaded.
    assert (await c.bus.inbox(sms)).config["auth_token"] == AUTH_TOKEN
    assert (await c.bus.inbox(tg)).config["bot_token"] == BOT_TOKEN
    assert (await c.bus.inbox(email)).config["smtp"]["password"] == SMTP_PASSWORD


async def test_plaintext_secrets_from_before_are_sealed_at_the_next_start(
    settings: Settings, clock: FakeClock
) -> None:
    c = bootstrap(settings, clock=clock)
    c.db.start()
    plain = {"account_sid": "AC" + "2" * 32, "auth_token": AUTH_TOKEN, "sandbox": True}
    inbox_id, _ = await c.db.write(
        lambda tx: tx.conn.execute(
            inboxes.insert().returning(inboxes.c.id),
            {
                "channel": "sms",
                "name": "Old",
                "address": "+14155550100",
                "config": plain,
                "created_at": tx.now,
            },
        ).scalar_one()
    )
    await c.aclose()
    c = bootstrap(settings, clock=clock)
    await c.start(jobs=False)
    try:
        stored = (await stored_configs(c))[inbox_id]
        assert stored["auth_token"].startswith("enc:v1:")
        assert (await c.bus.inbox(inbox_id)).config["auth_token"] == AUTH_TOKEN
    finally:
        await c.aclose()


async def test_no_api_answer_shows_an_inbox_secret(container: Container) -> None:
    c = container
    await make_inboxes(c)
    _, token = await make_agent(c, "ops@acme.test", role="admin")
    auth = {"Authorization": f"Bearer {token}"}
    async with api_client(c) as api:
        schema = (await api.get("/api/v1/openapi.json")).json()
        bodies = [json.dumps(schema)]
        for path, methods in schema["paths"].items():
            if "get" in methods:
                # every path parameter is an id: 1 names the first of each
                r = await api.get(re.sub(r"\{[^}]+\}", "1", path), headers=auth)
                bodies.append(r.text)
    text = "\n".join(bodies)
    assert len(bodies) > 10
    for secret in SECRETS:
        assert secret not in text


@pytest.fixture
def restore_logging() -> Any:
    saved = {
        name: (lg.level, lg.handlers[:])
        for name in ("", "threadline")
        for lg in [logging.getLogger(name)]
    }
    config = structlog.get_config()
    yield
    for name, (level, handlers) in saved.items():
        logging.getLogger(name).setLevel(level)
        logging.getLogger(name).handlers[:] = handlers
    structlog.reset_defaults()
    structlog.configure(**config)


async def test_no_log_line_shows_an_inbox_secret(
    container: Container, restore_logging: None, capfd: pytest.CaptureFixture[str]
) -> None:
    c = container
    sms, *_ = await make_inboxes(c)
    configure_logging("info")
    inbox = await c.bus.inbox(sms)
    log = structlog.get_logger("threadline.test")
    log.info("inbox.loaded", inbox=inbox, config=inbox.config, auth_token=AUTH_TOKEN)
    log.warning("relay", smtp={"host": "h", "password": SMTP_PASSWORD})
    err = capfd.readouterr().err
    assert "inbox.loaded" in err
    for secret in (AUTH_TOKEN, SMTP_PASSWORD):
        assert secret not in err


async def test_secrets_sealed_under_another_instance_secret_fail_closed(
    container: Container, settings: Settings, clock: FakeClock
) -> None:
    sms, *_ = await make_inboxes(container)
    other = bootstrap(settings.model_copy(update={"secret_key": "another-secret"}), clock=clock)
    await other.start(jobs=False)
    try:
        inbox = await other.bus.inbox(sms)
        assert inbox.config["auth_token"] is None  # webhooks refused, nothing sent
        assert inbox.config["account_sid"]
    finally:
        await other.aclose()
