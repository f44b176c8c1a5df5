"""Inboxes over SMTP: one added while the server runs takes mail at once, and
unknown recipients cannot make the server read the inboxes on every guess."""

from __future__ import annotations

import smtplib
from typing import Any

import pytest
from tests.channels.email.support import message_by_mid
from tests.support.dns import FakeResolver
from tests.support.factories import make_email, make_email_inbox
from tests.support.mail import smtp_send
from tests.support.servers import free_port

from threadline.actions.inboxes import add_inbox
from threadline.channels.email.smtp import RELOAD_INTERVAL, start_smtp_server

pytestmark = pytest.mark.anyio


async def add_sales_inbox(c: Any) -> None:
    """Added as the admin API does it, without telling the SMTP server."""
    await c.bus.execute(
        lambda tx: add_inbox(
            tx,
            channel="email",
            name="Sales",
            address="sales@acme.test",
            config={},
            secret=c.bus.cfg.secret_key,
        )
    )


async def test_an_inbox_added_while_running_gets_mail_at_once(container, smtp) -> None:  # type: ignore[no-untyped-def]
    c = container
    await make_email_inbox(c)
    await add_sales_inbox(c)
    raw, mid = make_email(to="sales@acme.test")
    assert await smtp_send(smtp, raw, to="sales@acme.test") == {}
    await message_by_mid(c, mid)


async def test_unknown_recipients_reload_the_inboxes_at_most_once_per_interval(container) -> None:  # type: ignore[no-untyped-def]
    c = container
    await make_email_inbox(c)
    now = [1000.0]
    port = free_port()
    server = await start_smtp_server(
        c.bus,
        "127.0.0.1",
        port,
        max_bytes=1 << 20,
        resolver=FakeResolver(),
        monotonic=lambda: now[0],
    )
    try:
        raw, _ = make_email(to="sales@acme.test")
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            await smtp_send(port, raw, to="sales@acme.test")
        await add_sales_inbox(c)
        # A spammer's next guess, a moment later, costs no database read.
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            await smtp_send(port, raw, to="sales@acme.test")
        now[0] += RELOAD_INTERVAL
        assert await smtp_send(port, raw, to="sales@acme.test") == {}
    finally:
        server.close()
        await server.wait_closed()
