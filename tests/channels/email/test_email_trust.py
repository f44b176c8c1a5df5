"""Mail we can trust, over real SMTP (smtplib → our aiosmtpd server): forged
senders are flagged, thread hints are proofs (for the API's conversation_id
too), null senders and auto-replies are what they are, new inboxes take mail at
once (test_smtp_inboxes.py), and a reused Message-ID does not cost anyone their mail."""

from __future__ import annotations

import re
import sysconfig
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.channels.email.support import message_by_mid, rows
from tests.support.dns import FakeResolver, dkim_sign
from tests.support.factories import (
    deliver_email,
    make_email,
    make_email_inbox,
    timeline,
)
from tests.support.mail import smtp_send

from threadline.actions.replies import send_reply
from threadline.channels.email.parse import parse_email
from threadline.channels.email.smtp import PROCESS_BYTES
from threadline.core.model import DeliveryStatus, Ignored, StatusUpdate
from threadline.storage.tables import (
    conversations,
    identities,
    inbound_receipts,
    merge_suggestions,
    messages,
)

pytestmark = pytest.mark.anyio

FORGED = "DMARC failed: the sender may be forged"


def publish_example_com(dns: FakeResolver, policy: str = "none") -> None:
    # What gmail.com publishes, give or take: DKIM, SPF, and a DMARC policy of none.
    dns.add("example.com", "TXT", "v=spf1 ip4:192.0.2.0/24 -all")
    dns.add("_dmarc.example.com", "TXT", f"v=DMARC1; p={policy}; rua=mailto:d@example.com")
    dns.publish_dkim("example.com")


# -- forged senders -------------------------------------------------------------
async def test_forged_from_over_smtp_is_flagged_and_never_trusted(container, smtp, dns) -> None:  # type: ignore[no-untyped-def]
    c = container
    publish_example_com(dns)
    await make_email_inbox(c)
    real, real_mid = make_email(body="Where is my order?")
    await smtp_send(smtp, dkim_sign(real, "example.com"))
    ana = await message_by_mid(c, real_mid)
    assert ana.meta.get("warnings") is None

    # Mallory's server signs nothing for example.com and sends from its own domain.
    forged, forged_mid = make_email(body="Please send the refund to my new card.")
    await smtp_send(smtp, forged, mail_from="bounce@evil.test", helo="mx.evil.test")
    fake = await message_by_mid(c, forged_mid)
    entries = [e for e in await timeline(c, fake.customer_id) if e["message"]]
    shown = next(e["message"] for e in entries if e["message"]["id"] == fake.id)
    assert shown["warnings"] == [FORGED]
    # The verdict is kept with the receipt, so a replay judges the sender the same way.
    receipt = (
        await rows(c, sa.select(inbound_receipts).where(inbound_receipts.c.message_id == fake.id))
    )[0]
    assert receipt.context["auth"]["dmarc"] == "fail"
    assert receipt.context["auth"]["from_domain"] == "example.com"
    # A forged sender links nothing: ana's address stays one verified identity, hers.
    owned = await rows(c, sa.select(identities).where(identities.c.value == "ana@example.com"))
    assert [(i.customer_id, bool(i.verified)) for i in owned] == [(ana.customer_id, True)]
    # Nor does it land on her record: it opens a separate customer, and a merge suggestion.
    assert fake.customer_id != ana.customer_id
    assert fake.conversation_id != ana.conversation_id
    suggested = await rows(
        c, sa.select(merge_suggestions).where(merge_suggestions.c.customer_id == fake.customer_id)
    )
    assert [(m.other_customer_id, m.status) for m in suggested] == [(ana.customer_id, "open")]


async def test_a_large_mail_is_checked_too(container, smtp, dns) -> None:  # type: ignore[no-untyped-def]
    # Past PROCESS_BYTES the checks run in a worker process, with the same resolver.
    c = container
    publish_example_com(dns, policy="reject")
    await make_email_inbox(c)
    body = ("0123456789" * 7 + "\n") * (PROCESS_BYTES // 70 + 10)
    signed, signed_mid = make_email(body=body)
    forged, forged_mid = make_email(body=body)
    await smtp_send(smtp, dkim_sign(signed, "example.com"))
    await smtp_send(smtp, forged, mail_from="x@evil.test")
    assert (await message_by_mid(c, signed_mid)).meta.get("warnings") is None
    assert (await message_by_mid(c, forged_mid)).meta["warnings"] == [FORGED]


async def test_forged_sender_of_a_new_address_is_linked_only_as_claimed(
    container, smtp, dns
) -> None:  # type: ignore[no-untyped-def]
    c = container
    publish_example_com(dns, policy="reject")
    await make_email_inbox(c)
    forged, mid = make_email(sender="ceo@example.com", body="Wire the money today.")
    await smtp_send(smtp, forged, mail_from="x@evil.test")
    fake = await message_by_mid(c, mid)
    assert fake.meta["warnings"] == [FORGED]
    owned = await rows(c, sa.select(identities).where(identities.c.value == "ceo@example.com"))
    assert [bool(i.verified) for i in owned] == [False]


async def test_a_stored_verdict_is_read_again_on_the_way_in(container) -> None:  # type: ignore[no-untyped-def]
    c = container
    inbox = await make_email_inbox(c)
    raw, _ = make_email()
    auth = {"spf": "fail", "dkim": "none", "dmarc": "fail", "from_domain": "example.com"}
    out = await deliver_email(c, inbox, raw, auth=auth)
    assert out.status == "processed"
    row = (await rows(c, sa.select(messages).where(messages.c.id == out.message_id)))[0]
    assert row.meta["warnings"] == [FORGED]


# -- thread hints ---------------------------------------------------------------
async def test_a_stranger_referencing_our_message_id_does_not_join(container, smtp, relay) -> None:  # type: ignore[no-untyped-def]
    c = container
    await make_email_inbox(c)
    raw, _ = make_email()
    await smtp_send(smtp, raw)
    conv = (await rows(c, sa.select(conversations)))[0]
    await c.bus.execute(
        lambda tx: send_reply(tx, c.bus.cfg, conversation_id=conv.id, author_id=None, text="Hi")
    )
    await c.runner.run_due()
    ours = (await rows(c, sa.select(messages).where(messages.c.direction == "outbound")))[0]
    # Our ids name no conversation any more: nothing left to guess from.
    assert re.fullmatch(r"tl\.[0-9a-f]{32}@acme\.test", ours.provider_message_id)

    # Even a stranger who learned the id is not added to Ana's conversation.
    other, mid = make_email(
        sender="mallory@evil.test",
        name="Mallory",
        subject="Re: Order #4417 hasn't arrived",
        in_reply_to=f"<{ours.provider_message_id}>",
    )
    await smtp_send(smtp, other, mail_from="mallory@evil.test")
    assert (await message_by_mid(c, mid)).conversation_id != conv.id

    # Ana's own reply with the same header threads.
    again, mid = make_email(subject="totally new", in_reply_to=f"<{ours.provider_message_id}>")
    await smtp_send(smtp, again)
    assert (await message_by_mid(c, mid)).conversation_id == conv.id


# -- null senders and auto-replies ----------------------------------------------
QMAIL_FAILURE = (
    b"From: MAILER-DAEMON@mx.old.example\r\n"
    b"To: support@acme.test\r\n"
    b"Subject: failure notice\r\n"
    b"Message-ID: <qmail-1@mx.old.example>\r\n"
    b"\r\n"
    b"Hi. This is the qmail-send program at mx.old.example.\r\n"
    b"I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
    b"This is a permanent error; I've given up. Sorry it didn't work out.\r\n"
)


async def test_failure_notice_from_the_null_sender_opens_nothing(container, smtp) -> None:  # type: ignore[no-untyped-def]
    c = container
    await make_email_inbox(c)
    assert await smtp_send(smtp, QMAIL_FAILURE, mail_from="") == {}
    assert await rows(c, sa.select(conversations)) == []
    receipt = (await rows(c, sa.select(inbound_receipts)))[0]
    assert (receipt.status, receipt.error) == ("ignored", "null sender")
    assert receipt.context["mail_from"] == ""


async def sent_reply(c: Any, smtp: int) -> tuple[Any, str]:
    """Ana writes, we answer; returns our outbound row and its bounce+ address."""
    raw, _ = make_email()
    await smtp_send(smtp, raw)
    conv = (await rows(c, sa.select(conversations)))[0]
    await c.bus.execute(
        lambda tx: send_reply(tx, c.bus.cfg, conversation_id=conv.id, author_id=None, text="Hi")
    )
    await c.runner.run_due()
    out = (await rows(c, sa.select(messages).where(messages.c.direction == "outbound")))[0]
    assert out.status == "sent"
    return out, c.relay_handler.received[-1][0]


@pytest.fixture
def relay_container(container, relay):  # type: ignore[no-untyped-def]
    container.relay_handler = relay[0]
    return container


@pytest.fixture
def senders(relay):  # type: ignore[no-untyped-def]
    from threadline.channels.email.adapter import SmtpRelay, SmtpSender

    return {"email": SmtpSender(SmtpRelay(host="127.0.0.1", port=relay[1], starttls=False))}


async def test_out_of_office_to_the_bounce_address_is_no_bounce(relay_container, smtp) -> None:  # type: ignore[no-untyped-def]
    c = relay_container
    await make_email_inbox(c)
    out, bounce_address = await sent_reply(c, smtp)
    ooo = (
        "From: Ana Souza <ana@example.com>\r\n"
        f"To: {bounce_address}\r\n"
        "Subject: Out of office: Re: Order #4417 hasn't arrived\r\n"
        "Message-ID: <ooo-1@example.com>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        f"In-Reply-To: <{out.provider_message_id}>\r\n"
        "\r\n"
        "I am away until Monday.\r\n"
    ).encode()
    # RFC 3834 §3.3: an auto-reply goes to the Return-Path, from the null sender.
    await smtp_send(smtp, ooo, to=bounce_address, mail_from="")
    row = (await rows(c, sa.select(messages).where(messages.c.id == out.id)))[0]
    assert row.status == "sent"
    receipt = (await rows(c, sa.select(inbound_receipts).order_by(inbound_receipts.c.id)))[-1]
    assert (receipt.status, receipt.error) == (
        "ignored",
        "auto-reply to our mail (auto-submitted: auto-replied)",
    )


async def test_a_plain_bounce_to_the_bounce_address_still_fails_the_reply(
    relay_container, smtp
) -> None:  # type: ignore[no-untyped-def]
    c = relay_container
    await make_email_inbox(c)
    out, bounce_address = await sent_reply(c, smtp)
    notice = QMAIL_FAILURE.replace(b"To: support@acme.test", f"To: {bounce_address}".encode())
    await smtp_send(smtp, notice, to=bounce_address, mail_from="")
    row = (await rows(c, sa.select(messages).where(messages.c.id == out.id)))[0]
    assert row.status == "failed"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ("From: Mail Delivery System <Mailer-Daemon@mx.exim.example>", "failed"),
        ("From: root@mx.exim.example\r\nX-Failed-Recipients: ana@example.com", "failed"),
        ("From: Ana Souza <ana@example.com>", "auto-reply"),
    ],
)
def test_auto_submitted_mail_to_the_bounce_address(headers: str, expected: str) -> None:
    # Exim's plain-text bounces say Auto-Submitted: auto-replied, as out-of-offices do.
    raw = (
        f"{headers}\r\nTo: bounce+m7.Q@acme.test\r\nSubject: Mail delivery failed\r\n"
        "Auto-Submitted: auto-replied\r\n\r\nA message that you sent could not be delivered.\r\n"
    ).encode()
    result = parse_email(raw, rcpt_tos=["bounce+m7.Q@acme.test"], mail_from="")
    if expected == "failed":
        assert isinstance(result, StatusUpdate)
        assert result.status is DeliveryStatus.FAILED
    else:
        assert result == Ignored("auto-reply to our mail (auto-submitted: auto-replied)")


# -- receipts -------------------------------------------------------------------
async def test_a_reused_message_id_with_other_content_is_stored(container, smtp) -> None:  # type: ignore[no-untyped-def]
    c = container
    await make_email_inbox(c)
    first, _ = make_email(body="First mail.", message_id="<reused@example.com>")
    second, _ = make_email(
        sender="bob@example.org", body="Another mail.", message_id="<reused@example.com>"
    )
    for raw in (first, second, first, second):  # each one, then a retry of each
        assert await smtp_send(smtp, raw) == {}
    stored = await rows(c, sa.select(messages).order_by(messages.c.id))
    assert [m.text for m in stored] == ["First mail.", "Another mail."]
    receipts = await rows(c, sa.select(inbound_receipts).order_by(inbound_receipts.c.id))
    assert [r.status for r in receipts] == ["processed", "processed"]
    assert receipts[0].provider_message_id == "reused@example.com"


async def test_an_api_conversation_id_is_honoured_only_for_its_own_customer(container) -> None:  # type: ignore[no-untyped-def]
    from tests.support.factories import deliver_api, make_api_inbox

    c = container
    api = await make_api_inbox(c)
    ana = await deliver_api(c, api, {"customer": {"email": "ana@example.com"}, "text": "hi"})
    bob = await deliver_api(
        c,
        api,
        {
            "customer": {"email": "bob@example.org"},
            "text": "let me in",
            "conversation_id": ana.conversation_id,
        },
    )
    assert bob.conversation_id != ana.conversation_id
    again = await deliver_api(
        c,
        api,
        {
            "customer": {"email": "ana@example.com"},
            "text": "more",
            "conversation_id": ana.conversation_id,
        },
    )
    assert again.conversation_id == ana.conversation_id


async def test_a_replayed_mail_reusing_a_message_id_is_stored(container) -> None:  # type: ignore[no-untyped-def]
    c = container
    inbox = await make_email_inbox(c)
    first, _ = make_email(body="First mail.", message_id="<reused@example.com>")
    assert (await deliver_email(c, inbox, first)).status == "processed"
    fixed, _ = make_email(body="Second mail.", message_id="<reused@example.com>")
    broken = fixed.replace(b"From: Ana Souza <ana@example.com>\n", b"")
    held = await deliver_email(c, inbox, broken)
    assert held.status == "quarantined"
    replayed = await c.bus.replay(held.receipt_id, fixed)
    assert replayed.status == "processed"
    stored = await rows(c, sa.select(messages.c.text).order_by(messages.c.id))
    assert [m.text for m in stored] == ["First mail.", "Second mail."]


CPYTHON_EMAIL_DATA = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"


async def test_cpythons_email_test_data_is_stored_once_each(container) -> None:  # type: ignore[no-untyped-def]
    # Found in the wild: msg_01, 03, 14, 20 and 29 share one Message-ID, msg_04 and 44 another.
    files = sorted(CPYTHON_EMAIL_DATA.glob("msg_*.txt"))
    if not files:
        pytest.skip("this Python was installed without its test package")
    c = container
    inbox = await make_email_inbox(c)
    first = [await deliver_email(c, inbox, f.read_bytes()) for f in files]
    assert [o.status for o in first if o.status == "duplicate"] == []
    retries = [await deliver_email(c, inbox, f.read_bytes()) for f in files]
    assert {o.status for o in retries} == {"duplicate"}
    assert [o.receipt_id for o in retries] == [o.receipt_id for o in first]
