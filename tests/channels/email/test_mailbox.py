"""An IMAP inbox end to end: real Dovecot → poller → bus → timeline, and a restart."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import sqlalchemy as sa
from tests.channels.email.support import imap_inbox
from tests.support.factories import make_email
from tests.support.mail import crlf

from threadline.channels.email.mailbox import mailbox_poller
from threadline.storage.tables import mailbox_state, messages

pytestmark = pytest.mark.anyio


async def test_imap_inbox_imports_each_message_once_across_restarts(
    container: Any, dovecot: Any
) -> None:
    c = container
    inbox, config = await imap_inbox(c, dovecot)
    first, _ = make_email(body="first via IMAP")
    await asyncio.to_thread(dovecot.append, crlf(first))
    reply, _ = make_email(subject="Re: Order #4417 hasn't arrived", body="second via IMAP")
    await asyncio.to_thread(dovecot.append, crlf(reply))

    poller = mailbox_poller(c.bus, inbox, config)
    assert await poller.poll_once() == 2
    await poller.aclose()
    rows = await c.db.read(
        lambda conn: conn.execute(sa.select(messages).order_by(messages.c.id)).all()
    )
    assert [r.text for r in rows] == ["first via IMAP", "second via IMAP"]
    assert rows[0].conversation_id == rows[1].conversation_id  # same subject: one matter
    state = await c.db.read(lambda conn: conn.execute(sa.select(mailbox_state)).one())
    assert state.last_uid == 2

    # A new process: nothing old comes back, the new message does.
    third, _ = make_email(subject="A new question", body="third via IMAP")
    await asyncio.to_thread(dovecot.append, crlf(third))
    restarted = mailbox_poller(c.bus, inbox, config)
    assert await restarted.poll_once() == 1
    await restarted.aclose()
    texts = await c.db.read(
        lambda conn: (
            conn.execute(sa.select(messages.c.text).order_by(messages.c.id)).scalars().all()
        )
    )
    assert texts == ["first via IMAP", "second via IMAP", "third via IMAP"]
