"""The size cap on IMAP: a message over THREADLINE_EMAIL_MAX_BYTES is judged by its
RFC822.SIZE, quarantined with the reason without being fetched, and the
messages after it are imported (real Dovecot)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from tests.channels.email.support import imap_inbox
from tests.support.factories import make_email
from tests.support.mail import crlf

from threadline.channels.email.mailbox import mailbox_poller
from threadline.storage.tables import inbound_receipts, mailbox_state, messages

pytestmark = [pytest.mark.anyio, pytest.mark.dovecot]

CAP = 64 * 1024


async def test_oversized_imap_message_is_quarantined_and_later_uids_go_on(
    container: Any, dovecot: Any
) -> None:
    c = container
    inbox, config = await imap_inbox(c, dovecot)
    before, _ = make_email(body="before the big one")
    big, _ = make_email(subject="scans", body="x" * (2 * CAP))
    after, _ = make_email(subject="Another question", body="after the big one")
    for raw in (before, big, after):
        await asyncio.to_thread(dovecot.append, crlf(raw))

    poller = mailbox_poller(c.bus, inbox, config, max_bytes=CAP)
    assert await poller.poll_once() == 3
    await poller.aclose()

    texts = await c.db.read(
        lambda conn: (
            conn.execute(sa.select(messages.c.text).order_by(messages.c.id)).scalars().all()
        )
    )
    assert texts == ["before the big one", "after the big one"]
    refused = await c.db.read(
        lambda conn: conn.execute(
            sa.select(inbound_receipts).where(inbound_receipts.c.status == "quarantined")
        ).one()
    )
    assert "UID 2" in refused.error
    assert f"capped at {CAP}" in refused.error
    assert refused.payload == b""  # never fetched
    state = await c.db.read(lambda conn: conn.execute(sa.select(mailbox_state)).one())
    assert state.last_uid == 3

    # The next poll neither fetches nor quarantines it again.
    again = mailbox_poller(c.bus, inbox, config, max_bytes=CAP)
    assert await again.poll_once() == 0
    await again.aclose()
