"""Email end to end: real SMTP in (smtplib → our aiosmtpd server), real SMTP out
(aiosmtplib → a local relay), threading, loops, bounces, quarantine."""

from __future__ import annotations

import hashlib
import hmac
import smtplib
from datetime import timedelta
from typing import Any

import anyio.to_thread
import pytest
import sqlalchemy as sa
from tests.support.factories import SUPPORT, api_client, make_email, make_email_inbox, timeline
from tests.support.servers import Relay

from threadline.actions.replies import send_reply
from threadline.channels.email.adapter import SmtpRelay, SmtpSender
from threadline.storage.tables import conversations, inbound_receipts, messages

pytestmark = pytest.mark.anyio


@pytest.fixture
def senders(relay: tuple[Relay, int]) -> dict[str, Any]:
    return {"email": SmtpSender(SmtpRelay(host="127.0.0.1", port=relay[1], starttls=False))}


async def smtp_send(
    port: int, raw: bytes, *, to: str = SUPPORT, mail_from: str = "ana@example.com"
) -> Any:
    def go() -> Any:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            return client.sendmail(mail_from, [to], raw)

    return await anyio.to_thread.run_sync(go)


async def one(c: Any, query: Any) -> Any:
    return await c.db.read(lambda conn: conn.execute(query).one())


async def test_reply_threads_and_outbound_carries_thread_headers(container, smtp, relay) -> None:  # type: ignore[no-untyped-def]
    c, (relay_handler, _) = container, relay
    await make_email_inbox(c)
    raw, first_id = make_email(body="Hi, my order #4417 is late.\n\nThanks,\nAna")
    assert await smtp_send(smtp, raw) == {}
    conv = await one(c, sa.select(conversations))
    assert conv.subject == "Order #4417 hasn't arrived"

    await c.bus.execute(
        lambda tx: send_reply(
            tx, c.bus.cfg, conversation_id=conv.id, author_id=None, text="We're on it."
        )
    )
    assert await c.runner.run_due() == 1
    sent = relay_handler.parsed()
    assert sent["In-Reply-To"] == f"<{first_id}>"
    assert f"<{first_id}>" in sent["References"]
    assert sent["Subject"].endswith(f"[#{conv.id}]")
    assert sent["Reply-To"].addresses[0].username.startswith("reply+")
    assert relay_handler.received[-1][0].startswith("bounce+")
    assert sent.get_body(("plain",)).get_content().strip() == "We're on it."
    assert sent.get_body(("html",)) is not None
    out = await one(c, sa.select(messages).where(messages.c.direction == "outbound"))
    assert out.status == "sent"
    assert sent["Message-ID"] == f"<{out.provider_message_id}>"

    # The customer answers with the headers their client sets.
    reply_raw, _ = make_email(
        subject=f"Re: {sent['Subject']}",
        body="Thanks! Tracking says Friday.\n\nOn Mon, Sam wrote:\n> We're on it.",
        in_reply_to=sent["Message-ID"],
    )
    await smtp_send(smtp, reply_raw)
    rows = await c.db.read(
        lambda conn: conn.execute(sa.select(messages).order_by(messages.c.id)).all()
    )
    assert [r.conversation_id for r in rows] == [conv.id] * 3
    assert rows[-1].text == "Thanks! Tracking says Friday."

    # A client that drops the headers but keeps our Reply-To address still threads.
    bare, _ = make_email(
        subject="something else entirely",
        body="one more thing",
        to=sent["Reply-To"].addresses[0].addr_spec,
    )
    await smtp_send(smtp, bare, to=sent["Reply-To"].addresses[0].addr_spec)
    last = await one(c, sa.select(messages).order_by(messages.c.id.desc()).limit(1))
    assert last.conversation_id == conv.id


async def test_forward_with_new_subject_opens_new_conversation(container, smtp) -> None:  # type: ignore[no-untyped-def]
    c = container
    await make_email_inbox(c)
    raw, _ = make_email(subject="Order #4417 hasn't arrived")
    await smtp_send(smtp, raw)
    fwd, _ = make_email(
        subject="Fwd: Invoice from your warehouse",
        body="---------- Forwarded message ---------\nInvoice attached",
    )
    await smtp_send(smtp, fwd)
    convs = await c.db.read(
        lambda conn: conn.execute(sa.select(conversations).order_by(conversations.c.id)).all()
    )
    assert [x.subject for x in convs] == [
        "Order #4417 hasn't arrived",
        "Fwd: Invoice from your warehouse",
    ]
    assert convs[0].customer_id == convs[1].customer_id
    # Same subject again (a second mail, no headers): continues the first.
    again, _ = make_email(subject="RE: Order #4417 hasn't arrived", body="hello?")
    await smtp_send(smtp, again)
    last = await one(c, sa.select(messages).order_by(messages.c.id.desc()).limit(1))
    assert last.conversation_id == convs[0].id


async def test_ticket_reference_only_from_the_conversations_customer(container, smtp) -> None:  # type: ignore[no-untyped-def]
    c = container
    await make_email_inbox(c)
    raw, _ = make_email()
    await smtp_send(smtp, raw)
    conv = await one(c, sa.select(conversations))
    own, _ = make_email(subject=f"About [#{conv.id}]", body="more details")
    await smtp_send(smtp, own)
    other, _ = make_email(
        sender="mallory@evil.test", name="Mallory", subject=f"About [#{conv.id}]", body="let me in"
    )
    await smtp_send(smtp, other, mail_from="mallory@evil.test")
    rows = await c.db.read(
        lambda conn: conn.execute(sa.select(messages).order_by(messages.c.id)).all()
    )
    assert rows[1].conversation_id == conv.id
    assert rows[2].conversation_id != conv.id


async def test_auto_reply_is_dropped(container, smtp) -> None:  # type: ignore[no-untyped-def]
    c = container
    await make_email_inbox(c)
    raw, _ = make_email(
        subject="Out of office",
        body="I'm away until Monday.",
        headers={"Auto-Submitted": "auto-replied"},
    )
    assert await smtp_send(smtp, raw) == {}
    receipt = await one(c, sa.select(inbound_receipts))
    assert receipt.status == "ignored"
    assert "auto" in receipt.error.lower()
    assert (
        await c.db.read(
            lambda conn: conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar()
        )
        == 0
    )


async def test_bounce_marks_the_outbound_message_failed(container, smtp, relay) -> None:  # type: ignore[no-untyped-def]
    c = container
    await make_email_inbox(c)
    raw, _ = make_email()
    await smtp_send(smtp, raw)
    conv = await one(c, sa.select(conversations))
    await c.bus.execute(
        lambda tx: send_reply(tx, c.bus.cfg, conversation_id=conv.id, author_id=None, text="Hello")
    )
    await c.runner.run_due()
    out = await one(c, sa.select(messages).where(messages.c.direction == "outbound"))
    dsn = (
        "From: MAILER-DAEMON@mx.example.com\r\nTo: support@acme.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.example.com>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be delivered.\r\n\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        "Final-Recipient: rfc822; ana@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <ana@example.com>: Recipient address rejected: User unknown\r\n\r\n"
        "--b1\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: support@acme.test\r\nTo: ana@example.com\r\nMessage-ID: <{out.provider_message_id}>\r\nSubject: Re: x\r\n\r\n"
        "--b1--\r\n"
    ).encode()
    await smtp_send(smtp, dsn, mail_from="")
    failed = await one(c, sa.select(messages).where(messages.c.id == out.id))
    assert failed.status == "failed"
    assert "5.1.1" in failed.error
    assert (
        await c.db.read(
            lambda conn: conn.execute(
                sa.select(sa.func.count()).select_from(conversations)
            ).scalar()
        )
        == 1
    )
    kinds = [e["kind"] for e in await timeline(c, conv.customer_id)]
    assert kinds[-1] == "delivery_failed"


async def test_relay_refusal_fails_visibly_and_outage_retries(container, relay, clock) -> None:  # type: ignore[no-untyped-def]
    from tests.support.factories import deliver_email

    c, (relay_handler, _) = container, relay
    inbox = await make_email_inbox(c)
    raw, _ = make_email()
    out = await deliver_email(c, inbox, raw)
    send = lambda text: c.bus.execute(  # noqa: E731
        lambda tx: send_reply(
            tx, c.bus.cfg, conversation_id=out.conversation_id, author_id=None, text=text
        )
    )
    relay_handler.refuse = "550 5.7.1 Relaying denied"
    first = await send("one")
    await c.runner.run_due()
    row = await one(c, sa.select(messages).where(messages.c.id == first.message_id))
    assert row.status == "failed"
    assert "550 5.7.1" in row.error

    relay_handler.refuse = "451 4.3.0 Try later"
    second = await send("two")
    await c.runner.run_due()
    assert (
        await one(c, sa.select(messages).where(messages.c.id == second.message_id))
    ).status == "queued"
    relay_handler.refuse = None
    assert await c.runner.run_due() == 0  # backoff: not due yet
    clock.advance(timedelta(seconds=16))
    assert await c.runner.run_due() == 1
    assert (
        await one(c, sa.select(messages).where(messages.c.id == second.message_id))
    ).status == "sent"


async def test_malformed_email_quarantined_then_replayed(container, smtp) -> None:  # type: ignore[no-untyped-def]
    c = container
    await make_email_inbox(c)
    broken = b"To: support@acme.test\r\nSubject: no sender\r\nMessage-ID: <x1@example.com>\r\n\r\nwho am I?\r\n"
    assert await smtp_send(smtp, broken) == {}  # accepted: it is ours to keep now
    receipt = await one(c, sa.select(inbound_receipts))
    assert receipt.status == "quarantined"
    assert "From" in receipt.error
    fixed = b"From: Ana <ana@example.com>\r\n" + broken
    outcome = await c.bus.replay(receipt.id, fixed)
    assert outcome.status == "processed"
    msg = await one(c, sa.select(messages))
    assert msg.text == "who am I?"


async def test_smtp_retry_of_same_message_id_is_stored_once(container, smtp) -> None:  # type: ignore[no-untyped-def]
    c = container
    await make_email_inbox(c)
    raw, _ = make_email(message_id="<same-1@example.com>")
    await smtp_send(smtp, raw)
    await smtp_send(smtp, raw)
    assert (
        await c.db.read(
            lambda conn: conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar()
        )
        == 1
    )


async def test_unknown_recipient_refused_at_rcpt(container, smtp) -> None:  # type: ignore[no-untyped-def]
    await make_email_inbox(container)
    raw, _ = make_email(to="nobody@elsewhere.test")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        await smtp_send(smtp, raw, to="nobody@elsewhere.test")


async def test_raw_mime_webhook_checks_signature(container) -> None:  # type: ignore[no-untyped-def]
    c = container
    inbox = await make_email_inbox(c, webhook_secret="s3cret")
    raw, _ = make_email()
    async with api_client(c) as client:
        bad = await client.post(
            f"/webhooks/email/{inbox}", content=raw, headers={"X-Threadline-Signature": "sha256=00"}
        )
        assert bad.status_code == 403
        sig = hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
        good = await client.post(
            f"/webhooks/email/{inbox}",
            content=raw,
            headers={"X-Threadline-Signature": f"sha256={sig}"},
        )
        assert good.status_code == 200, good.text
        assert good.json()["status"] == "processed"
        missing = await client.post("/webhooks/email/999", content=raw)
        assert missing.status_code == 404
