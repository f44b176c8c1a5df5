"""What the conversation page shows for calls and replies: a player and a transcript,
not a key:value dump; delivery ticks; internal notes set apart."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from tests.support.factories import api_client, deliver_email, make_email, make_email_inbox
from tests.support.ui import make_user, sign_in

from threadline.actions.calls import record_call
from threadline.actions.delivery import set_delivery_status
from threadline.actions.inboxes import add_inbox
from threadline.actions.replies import send_reply
from threadline.bootstrap import Container
from threadline.core.identity import normalize
from threadline.core.model import CallEvent, DeliveryStatus
from threadline.storage.tables import calls

pytestmark = pytest.mark.anyio


async def test_a_voicemail_shows_a_player_its_length_and_its_transcript(
    container: Container,
) -> None:
    c = container
    voice = await c.bus.execute(
        lambda tx: add_inbox(
            tx,
            channel="voice",
            name="Acme phone",
            address="+14155550100",
            config={"account_sid": "AC" + "0" * 32, "auth_token": "t" * 32},
            secret=c.bus.cfg.secret_key,
        )
    )
    caller = normalize("phone", "+14155550111")
    event = CallEvent(
        call_id="CA" + "1" * 32,
        key="CA1:vm",
        caller=caller,
        direction="inbound",
        status="completed",
        duration_seconds=65,
        answered=False,
        recording_url="https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1",
        recording_seconds=42,
        transcription="Hi, it is Grace <b>about</b> my order, please call back.",
        voicemail=True,
    )
    await c.bus.execute(lambda tx: record_call(tx, c.bus.cfg, voice, event))
    conversation_id = await c.db.read(
        lambda conn: conn.execute(sa.select(calls.c.conversation_id)).scalar()
    )
    await make_user(c, "ada@acme.test")
    async with api_client(c) as web:
        await sign_in(web, "ada@acme.test")
        page = (await web.get(f"/conversations/{conversation_id}")).text
    call = page.split('data-kind="call"', 1)[1].split("</li>", 1)[0]
    assert "Voicemail" in call
    assert re.search(r'<audio controls[^>]*src="https://api\.twilio\.com/[^"]+RE1"', call)
    assert "1:05" in call  # the duration, as a person reads it
    assert "please call back" in call
    assert "&lt;b&gt;about&lt;/b&gt;" in call  # the transcript is text, escaped
    assert "recording_url" not in call  # no key:value dump
    assert "duration_seconds" not in call


async def test_replies_carry_delivery_ticks_and_notes_stand_apart(container: Container) -> None:
    c = container
    inbox = await make_email_inbox(c)
    raw, _ = make_email(body="Hello there")
    first = await deliver_email(c, inbox, raw)
    cid = first.conversation_id

    async def reply(text: str, *, note: bool = False) -> int:
        result = await c.bus.execute(
            lambda tx: send_reply(
                tx, c.bus.cfg, conversation_id=cid, author_id=None, text=text, note=note
            )
        )
        return result.message_id

    delivered = await reply("Delivered one")
    await c.bus.execute(lambda tx: set_delivery_status(tx, delivered, DeliveryStatus.SENT))
    await c.bus.execute(lambda tx: set_delivery_status(tx, delivered, DeliveryStatus.DELIVERED))
    await reply("Still sending")
    await reply("Only for the team", note=True)
    await make_user(c, "ada@acme.test")
    async with api_client(c) as web:
        await sign_in(web, "ada@acme.test")
        page = (await web.get(f"/conversations/{cid}")).text

    def entry(text: str) -> str:
        return page.split(text, 1)[0].rsplit("<li", 1)[1]

    assert 'title="delivered">✓✓' in entry("Delivered one")
    assert 'title="sending"' in entry("Still sending")
    note = entry("Only for the team")
    assert 'class="entry note"' in note
    assert "Internal note" in note
