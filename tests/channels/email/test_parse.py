"""parse_email on real-shaped mail: each fixture keeps the quirks of its client."""

from __future__ import annotations

import email
import email.policy
import hashlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from threadline.channels.email.body import html_to_text, latest_reply, sanitize_html
from threadline.channels.email.bounces import verp_token
from threadline.channels.email.parse import MalformedEmail, parse_email
from threadline.core.model import (
    Channel,
    DeliveryStatus,
    IdentityRef,
    Ignored,
    InboundMessage,
    StatusUpdate,
    ThreadHints,
)

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> bytes:
    return (FIXTURES / f"{name}.eml").read_bytes()


def inbound(raw: bytes, **kwargs: Any) -> InboundMessage:
    result = parse_email(raw, **kwargs)
    assert isinstance(result, InboundMessage), result
    return result


def mail(
    *extra: str,
    body: bytes = b"Hello, where is my order?\r\n",
    content_type: str = "text/plain; charset=utf-8",
    cte: str = "8bit",
    drop: tuple[str, ...] = (),
) -> bytes:
    """A plain customer mail; ``extra`` headers go first, ``drop`` removes base ones."""
    base = {
        "From": "Ana Lima <ana.lima@gmail.com>",
        "To": "support@support.example",
        "Subject": "Where is my order?",
        "Date": "Mon, 3 Nov 2025 12:02:07 +0100",
        "Message-ID": "<CAJx9fPq0base@mail.gmail.com>",
        "MIME-Version": "1.0",
        "Content-Type": content_type,
        "Content-Transfer-Encoding": cte,
    }
    lines = [*extra, *(f"{k}: {v}" for k, v in base.items() if k not in drop)]
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + body


def html_part(name: str) -> str:
    msg = email.message_from_bytes(load(name), policy=email.policy.default)
    part = msg.get_body(preferencelist=("html",))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


# --- the newest reply, without quotes and signature --------------------------


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "gmail_reply",
            'Hi,\n\nthe tracking page still says "label created". Could you ask the courier\n'
            "what happened? Order number is 88123.\n\nAna",
        ),
        (
            "gmail_de_reply",
            "Hallo Sam,\n\ndanke, das Paket ist heute angekommen. Die Rechnung fehlt aber noch"
            " – könnt ihr sie mir schicken?",
        ),
        ("iphone_reply", "Still nothing arrived, can you check again?"),
        (
            "outlook_reply_cp1252",
            "Hello,\n\nthe invoice shows 49,90 € but I paid 39,90 € – can you correct it?\n"
            "It’s for order 77812 (“express” shipping).",
        ),
        ("forwarded", "Can you explain this? I got it from the courier this morning."),
        (
            "latin1_qp",
            "Guten Tag,\n\nich möchte die Jacke (Größe M) zurücksenden. Muss ich das"
            " Rücksendeetikett selbst ausdrucken?",
        ),
        ("attachments", "Hallo,\n\nanbei die Rechnung vom März."),
        (
            "html_only_complaint",
            "## Delivery complaint for PO-55120\n\nDear Threadline team,\n\n"
            "the following items of purchase order **PO-55120** arrived damaged:\n\n"
            '* 3 × Desk lamp "Halo"\n* 1 × Floor lamp "Arc" – the shade is cracked\n\n'
            "Photos are in our [claims portal](https://portal.nordwind-retail.example/claims/8812).",
        ),
    ],
)
def test_text_is_the_newest_reply_only(fixture: str, expected: str) -> None:
    assert inbound(load(fixture)).text == expected


def test_full_text_keeps_the_quoted_history() -> None:
    msg = inbound(load("gmail_reply"))
    assert msg.full_text is not None
    assert msg.full_text.startswith("Hi,\n\nthe tracking page")
    assert "reply+Yn7kQ2xv.9Zs_abc@support.example> wrote:\n\n> Hello Ana," in msg.full_text
    assert msg.full_text.endswith("> Best regards,\n> Sam from Threadline\n>")


def test_forwarded_mail_keeps_the_forwarded_part_in_full_text() -> None:
    msg = inbound(load("forwarded"))
    assert msg.full_text is not None
    assert "your parcel 00340434 from Threadline Shop is delayed by 2 days." in msg.full_text
    assert msg.hints == ThreadHints(
        message_ids=("20251104080112.3F2A1C0D@mailer.courier.example",),
        subject="Fwd: Your parcel 00340434 is delayed",
    )


def test_text_falls_back_to_full_text_when_stripping_leaves_nothing() -> None:
    body = (
        b"---------- Forwarded message ---------\r\n"
        b"From: Parcel Courier <noreply@courier.example>\r\n"
        b"Date: Tue, 4 Nov 2025 at 08:01\r\n"
        b"Subject: Your parcel is delayed\r\n\r\n"
        b"Dear customer, your parcel is delayed.\r\n"
    )
    msg = inbound(mail(body=body))
    assert msg.text == msg.full_text
    assert msg.text.endswith("Dear customer, your parcel is delayed.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi,\nit works now.\n\nThanks,\nPeter", "Hi,\nit works now."),
        ("Hi,\nit works now.\n\nBest regards, Dr. Peter Müller\nAcme", "Hi,\nit works now."),
        ("Hi,\nit works now.\n\n-- \nPeter\nAcme GmbH", "Hi,\nit works now."),
        # The library would cut at "Thanks," and lose the question that follows.
        (
            "Hi,\nThanks, that fixed it! But the export still fails.\nCould you look again?",
            "Hi,\nThanks, that fixed it! But the export still fails.\nCould you look again?",
        ),
        ("I need:\n- 2 lamps\n- 1 cable\n\nThanks,\nAna", "I need:\n- 2 lamps\n- 1 cable"),
        ("", ""),
    ],
)
def test_latest_reply_strips_only_plausible_signatures(text: str, expected: str) -> None:
    assert latest_reply(text) == expected


# --- identity, threading, metadata -------------------------------------------


def test_gmail_reply_in_full() -> None:
    msg = inbound(load("gmail_reply"))
    assert msg.channel is Channel.EMAIL
    assert msg.provider_message_id == "CAJx9fPq3Rk+Lm2vC8Hc_T0dZ4y=8Q7sVb1nP5wX@mail.gmail.com"
    assert msg.sender == IdentityRef("email", "ana.lima@gmail.com", verified=True)
    assert msg.sender_name == "Ana Lima"
    assert msg.hints == ThreadHints(
        message_ids=("ticket-1042.msg-7@support.example", "ticket-1042.msg-8@support.example"),
        reply_token="Yn7kQ2xv.9Zs_abc",
        ticket_number=1042,
        subject="Re: [#1042] Order never arrived",
    )
    assert msg.sent_at == datetime(2025, 11, 3, 11, 2, 7, tzinfo=UTC)
    assert msg.warnings == ()
    assert msg.also == ()
    assert msg.attachments == ()
    assert msg.meta == {
        "message_id": "CAJx9fPq3Rk+Lm2vC8Hc_T0dZ4y=8Q7sVb1nP5wX@mail.gmail.com",
        "subject": "Re: [#1042] Order never arrived",
        "to": "Threadline Support <reply+Yn7kQ2xv.9Zs_abc@support.example>",
        "cc": "",
    }


@pytest.mark.parametrize(
    ("fixture", "subject", "ticket", "name", "address"),
    [
        (
            "gmail_de_reply",
            "Re: Lieferung 88200 – Rechnung fehlt",
            None,
            "Jonas Müller",
            "jonas.mueller@gmail.com",
        ),
        (
            "latin1_qp",
            "Frage zur Rücksendung (Größe M)",
            None,
            "Björn Kästner",
            "bjoern.kaestner@web.example",
        ),
        (
            "outlook_reply_cp1252",
            "RE: [#1043] Wrong invoice amount",
            1043,
            "Peter Schmidt",
            "p.schmidt@acme.example",
        ),
        ("attachments", "Rechnung März", None, "Acme Buchhaltung", "buchhaltung@acme.example"),
    ],
)
def test_encoded_headers_are_decoded(
    fixture: str, subject: str, ticket: int | None, name: str, address: str
) -> None:
    msg = inbound(load(fixture))
    assert (msg.hints.subject, msg.hints.ticket_number) == (subject, ticket)
    assert (msg.sender_name, msg.sender.value) == (name, address)


def test_raw_utf8_headers_are_read_as_text() -> None:
    # SMTPUTF8 clients send header text as raw UTF-8 instead of encoded words.
    msg = inbound(load("utf8_raw_headers"))
    assert (msg.sender_name, msg.sender.value) == ("Chloé Dubois", "chloe.dubois@exemple.fr")
    assert msg.hints.subject == "Où est ma commande ? Déjà 10 jours 📦"
    assert msg.meta["to"] == "Équipe Support <support@support.example>"
    assert [a.filename for a in msg.attachments] == ["reçu_66120.pdf"]


def test_raw_latin1_headers_are_read_as_windows_1252() -> None:
    msg = inbound(load("latin1_raw_subject"))
    assert (msg.sender_name, msg.sender.value) == ("Frédéric Martin", "f.martin@vieux-fai.example")
    assert msg.hints.subject == "Réclamation n° 5521 – facture à 49,90 € (“express”)"
    assert msg.meta["subject"] == msg.hints.subject


@pytest.mark.parametrize(
    ("from_", "subject", "name", "expected_subject"),
    [
        (b"Andr\xc3\xa9 <a@example.com>", b"Gr\xc3\xb6\xc3\x9fe M", "André", "Größe M"),
        (b'"Andr\xc3\xa9 \\"Dre\\"" <a@example.com>', b"ok", 'André "Dre"', "ok"),
        (b"Andr\xe9 <a@example.com>", b"Caf\xe9 cr\xe8me", "André", "Café crème"),
        # 0x81 means nothing in UTF-8 or windows-1252: a replacement character.
        (b"Andr\x81 <a@example.com>", b"Caf\x81", "Andr\ufffd", "Caf\ufffd"),
        # Encoded words that lie about their charset.
        (b"=?utf-8?q?Andr=E9?= <a@example.com>", b"ok", "André", "ok"),
        (b"=?unknown-8bit?q?Andr=C3=A9?= <a@example.com>", b"ok", "André", "ok"),
    ],
    ids=["utf8", "utf8-quoted", "latin1", "undefined-byte", "lying-word", "unknown-8bit-word"],
)
def test_8bit_header_bytes_never_leave_surrogates(
    from_: bytes, subject: bytes, name: str, expected_subject: str
) -> None:
    raw = mail(drop=("From", "Subject")).replace(
        b"To:", b"From: " + from_ + b"\r\nSubject: " + subject + b"\r\nTo:", 1
    )
    msg = inbound(raw)
    assert (msg.sender_name, msg.hints.subject) == (name, expected_subject)
    assert msg.sender.value == "a@example.com"


def test_8bit_attachment_filenames_are_decoded() -> None:
    body = (
        b"--A\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nTwo files.\r\n"
        b'--A\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="M\xc3\xa4rz.pdf"'
        b"\r\n\r\n%PDF\r\n"
        b'--A\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="R\xe9sum\xe9.pdf"'
        b"\r\n\r\n%PDF\r\n--A--\r\n"
    )
    msg = inbound(mail(body=body, content_type="multipart/mixed; boundary=A"))
    assert [a.filename for a in msg.attachments] == ["März.pdf", "Résumé.pdf"]


def test_attached_mail_with_8bit_headers_keeps_its_bytes() -> None:
    inner = "From: Zoë <zoe@example.com>\r\nSubject: Größe\r\n\r\nHallo\r\n".encode()
    body = (
        b"--A\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attached.\r\n"
        b"--A\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"--A--\r\n"
    )
    (eml,) = inbound(mail(body=body, content_type="multipart/mixed; boundary=A")).attachments
    assert eml.data.replace(b"\n", b"\r\n") == inner.rstrip(b"\r\n")


def test_reply_token_only_counts_on_our_domains() -> None:
    ours = inbound(load("gmail_reply"), our_domains=("support.example",))
    theirs = inbound(load("gmail_reply"), our_domains=("other.example",))
    assert ours.hints.reply_token == "Yn7kQ2xv.9Zs_abc"
    assert theirs.hints.reply_token is None


def test_reply_token_from_the_envelope() -> None:
    msg = inbound(load("iphone_reply"), rcpt_tos=["reply+Tk9.Zz@support.example"])
    assert msg.hints.reply_token == "Tk9.Zz"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (("References: <a@x> <b@x>", "In-Reply-To: <b@x>"), ("a@x", "b@x")),
        (("References: <a@x>\r\n <b@x> <a@x>", "In-Reply-To: <c@x>"), ("a@x", "b@x", "c@x")),
        (("In-Reply-To: <c@x> (Ana's message of Monday)",), ("c@x",)),
        (("In-Reply-To: c@x",), ("c@x",)),
        ((), ()),
    ],
)
def test_thread_ids_are_deduplicated_newest_last(
    headers: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    assert inbound(mail(*headers)).hints.message_ids == expected


def test_missing_message_id_gets_a_stable_digest() -> None:
    raw = mail(drop=("Message-ID",))
    first, again = inbound(raw), inbound(raw)
    assert first.provider_message_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert again.provider_message_id == first.provider_message_id
    assert first.meta["message_id"] == ""


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Tue, 4 Nov 2025 09:14:52 -0500", datetime(2025, 11, 4, 14, 14, 52, tzinfo=UTC)),
        ("Tue, 4 Nov 2025 09:14:52 -0000", datetime(2025, 11, 4, 9, 14, 52, tzinfo=UTC)),
        ("next Tuesday, probably", None),
    ],
)
def test_sent_at_is_aware_or_none(date: str, expected: datetime | None) -> None:
    msg = inbound(mail(f"Date: {date}", drop=("Date",)))
    assert msg.sent_at == expected
    assert msg.sent_at is None or msg.sent_at.utcoffset() is not None


def test_latin1_sent_at_keeps_its_offset() -> None:
    sent = inbound(load("latin1_qp")).sent_at
    assert sent == datetime(2025, 11, 7, 21, 5, 33, tzinfo=timezone(timedelta(hours=1)))


# --- trust -------------------------------------------------------------------


def test_dmarc_failure_unverifies_the_sender() -> None:
    msg = inbound(load("dmarc_fail"))
    assert msg.sender == IdentityRef("email", "ceo@acme.example", verified=False)
    assert msg.warnings == ("DMARC failed: the sender may be forged",)


@pytest.mark.parametrize(
    ("results", "verified", "warnings"),
    [
        ("mx.support.example; dkim=fail header.d=x.example", False, ("DKIM failed",)),
        ("mx.support.example; dkim=pass; dkim-atps=fail; dmarc=pass", True, ()),
        ("mx.support.example; spf=fail smtp.mailfrom=x.example", True, ()),
    ],
)
def test_authentication_results(results: str, verified: bool, warnings: tuple[str, ...]) -> None:
    msg = inbound(mail(f"Authentication-Results: {results}"))
    assert msg.sender.verified is verified
    assert tuple(w.split(":")[0] for w in msg.warnings) == warnings


# --- loop prevention ---------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("auto_reply_vacation", "auto-submitted: auto-replied"),
        ("exchange_oof", "auto-response-suppress: all"),
        ("delayed_dsn", "delivery report: delayed"),
    ],
)
def test_automatic_fixtures_are_ignored(fixture: str, reason: str) -> None:
    assert parse_email(load(fixture)) == Ignored(reason)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Auto-Submitted: auto-generated", "auto-submitted: auto-generated"),
        ("Auto-Submitted: Auto-Replied; owner-email=ana@x.example", "auto-submitted: auto-replied"),
        ("Precedence: bulk", "precedence: bulk"),
        ("Precedence: junk", "precedence: junk"),
        ("Precedence: list", "precedence: list"),
        ("List-Id: Shop news <news.shop.example>", "mailing list"),
        ("List-Unsubscribe: <mailto:leave@shop.example>", "mailing list"),
        ("Return-Path: <>", "null sender"),
        ("X-Auto-Response-Suppress: OOF", "auto-response-suppress: oof"),
        ("X-Auto-Response-Suppress: DR, OOF, AutoReply", "auto-response-suppress: oof"),
    ],
)
def test_automatic_mail_is_ignored(header: str, reason: str) -> None:
    assert parse_email(mail(header)) == Ignored(reason)


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: no",
        "Precedence: first-class",
        "X-Auto-Response-Suppress: DR, RN, NRN",
        "X-Auto-Response-Suppress: AutoReply",
        "Return-Path: <ana.lima@gmail.com>",
    ],
)
def test_ordinary_mail_with_harmless_markers_is_kept(header: str) -> None:
    assert isinstance(parse_email(mail(header)), InboundMessage)


def test_null_envelope_sender_is_ignored() -> None:
    assert parse_email(mail(), mail_from="") == Ignored("null sender")
    assert isinstance(parse_email(mail(), mail_from="ana.lima@gmail.com"), InboundMessage)


# --- bounces -----------------------------------------------------------------


def test_postfix_bounce() -> None:
    assert parse_email(load("postfix_dsn"), our_domains=("support.example",)) == StatusUpdate(
        status=DeliveryStatus.FAILED,
        provider_message_ids=("ticket-1044.msg-2@support.example", "verp:m8812.Kx3"),
        error="5.1.1 550 5.1.1 <nobody@customer.example>: Recipient address rejected:"
        " User unknown in virtual mailbox table",
        recipients=("nobody@customer.example",),
    )


def test_exchange_bounce_counts_only_failed_recipients() -> None:
    assert parse_email(load("exchange_ndr")) == StatusUpdate(
        status=DeliveryStatus.FAILED,
        provider_message_ids=("ticket-1050.msg-1@support.example", "verp:m8820.Wv7"),
        error="5.1.10 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP"
        " address lookup",
        recipients=("jdoe@contoso.example",),
    )


def test_bounce_to_a_foreign_verp_address_has_no_token() -> None:
    result = parse_email(load("postfix_dsn"), our_domains=("elsewhere.example",))
    assert isinstance(result, StatusUpdate)
    assert result.provider_message_ids == ("ticket-1044.msg-2@support.example",)


@pytest.mark.parametrize(
    ("rcpt_tos", "our_domains", "expected"),
    [
        (["bounce+m8812.Kx3@support.example"], (), "m8812.Kx3"),
        (["support@support.example", "Bounce+AbC@support.example"], (), "AbC"),
        (["<bounce+m1@support.example>"], ("SUPPORT.example",), "m1"),
        (["bounce+m1@other.example"], ("support.example",), None),
        (["reply+m1@support.example"], (), None),
        (["bounce+@support.example", "bounce@support.example"], (), None),
        ([], (), None),
    ],
)
def test_verp_token(
    rcpt_tos: list[str], our_domains: tuple[str, ...], expected: str | None
) -> None:
    assert verp_token(rcpt_tos, our_domains=our_domains) == expected


def test_non_standard_bounce_to_the_verp_address() -> None:
    raw = mail(
        "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.old.example>",
        "Subject: failure notice",
        drop=("From", "Subject"),
    )
    assert parse_email(raw, rcpt_tos=["bounce+m77.Q@support.example"]) == StatusUpdate(
        status=DeliveryStatus.FAILED,
        provider_message_ids=("verp:m77.Q",),
        error="non-standard bounce: failure notice",
    )


def test_a_person_writing_to_the_verp_address_is_ignored() -> None:
    result = parse_email(mail(), rcpt_tos=["bounce+m77.Q@support.example"])
    assert result == Ignored("mail to the bounce address")


# --- malformed ---------------------------------------------------------------


def test_mail_without_from_is_malformed() -> None:
    with pytest.raises(MalformedEmail, match="From"):
        parse_email(load("no_from"))


@pytest.mark.parametrize(
    "raw",
    [b"", b"just some text\nwithout any headers\n", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"],
)
def test_non_mail_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedEmail, match="not an email"):
        parse_email(raw)


@pytest.mark.parametrize(
    "sender", ["root", "<>", "Ana Lima <ana.lima@>", "undisclosed-recipients:;"]
)
def test_unusable_from_is_malformed(sender: str) -> None:
    with pytest.raises(MalformedEmail, match="From"):
        parse_email(mail(f"From: {sender}", drop=("From",)))


# --- charsets ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "cte", "body", "expected"),
    [
        ("text/plain; charset=iso-8859-1", "quoted-printable", b"Gr=FC=DFe", "Grüße"),
        # Outlook labels windows-1252 text as ISO-8859-1: € is 0x80 there.
        ("text/plain; charset=iso-8859-1", "8bit", b"49,90 \x80", "49,90 €"),
        (
            "text/plain; charset=windows-1252",
            "8bit",
            b"\x93quoted\x94 \x96 it\x92s",
            "“quoted” – it’s",
        ),
        ("text/plain; charset=utf-8", "quoted-printable", b"K=C3=B6ln =E2=82=AC", "Köln €"),
        ("text/plain; charset=utf-8", "base64", b"S8O2bG4g4oKs\r\n", "Köln €"),
        ("text/plain", "8bit", "Köln".encode(), "Köln"),
        ("text/plain; charset=us-ascii", "8bit", b"K\xf6ln", "Köln"),
        ("text/plain; charset=x-klingon", "8bit", "Köln".encode(), "Köln"),
        ("text/plain; charset=x-klingon", "8bit", b"K\xf6ln", "K\ufffdln"),
        ('text/plain; charset="UTF-8"', "8bit", b"\xef\xbb\xbfHello", "Hello"),
    ],
)
def test_body_charsets(content_type: str, cte: str, body: bytes, expected: str) -> None:
    assert inbound(mail(body=body, content_type=content_type, cte=cte)).text == expected


def test_windows_1252_outlook_reply_keeps_umlauts_in_full_text() -> None:
    full = inbound(load("outlook_reply_cp1252")).full_text
    assert full is not None
    assert "Head of Purchasing | Acme GmbH\nMünchen" in full
    assert "we’ve checked your invoice" in full


# --- HTML --------------------------------------------------------------------


def test_html_only_mail() -> None:
    msg = inbound(load("html_only_complaint"))
    assert msg.full_text is not None
    assert msg.full_text.endswith(
        "(https://portal.nordwind-retail.example/claims/8812).\n\n"
        "Kind regards\nNordwind Retail Purchasing"
    )
    assert msg.html is not None
    assert "<h2>Delivery complaint for PO-55120</h2>" in msg.html
    assert 'rel="noopener noreferrer"' in msg.html
    for unsafe in ("<script", "track(", "onclick", "<style", "font-family", "<title"):
        assert unsafe not in msg.html


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "gmail_reply",
            'Hi,\n\nthe tracking page still says "label created". Could you ask the courier'
            " what happened? Order number is 88123.\n\nAna",
        ),
        ("iphone_reply", "Still nothing arrived, can you check again?\n\nSent from my iPhone"),
        (
            "outlook_reply_cp1252",
            "Hello,\n\nthe invoice shows 49,90 € but I paid 39,90 € – can you correct it?\n"
            "It’s for order 77812 (“express” shipping).\n\nThanks,\nPeter Schmidt\n"
            "Head of Purchasing | Acme GmbH\nMünchen",
        ),
        ("forwarded", "Can you explain this? I got it from the courier this morning."),
    ],
)
def test_html_to_text_cuts_quoted_history(fixture: str, expected: str) -> None:
    assert html_to_text(html_part(fixture)) == expected


def test_html_to_text_keeps_table_cells_apart() -> None:
    html = "<table><tr><th>Item</th><th>Qty</th></tr><tr><td>Lamp</td><td>3</td></tr></table>"
    assert html_to_text(html) == "Item Qty\nLamp 3"


def test_html_mail_without_plain_part_strips_quotes_but_keeps_them_in_full_text() -> None:
    html = (
        "<div>Sounds good, thanks!</div><div class='gmail_quote'><div class='gmail_attr'>"
        "On Mon, Sam wrote:</div><blockquote class='gmail_quote'>Shall we call?</blockquote></div>"
    )
    msg = inbound(mail(body=html.encode(), content_type="text/html; charset=utf-8"))
    assert msg.text == "Sounds good, thanks!"
    assert msg.full_text == "Sounds good, thanks!\n\nOn Mon, Sam wrote:\n\n> Shall we call?"


def test_sanitize_keeps_cid_images_and_drops_active_content() -> None:
    dirty = (
        '<p onclick="x()">Hi<img src="cid:logo@x" onerror="x()"><a href="javascript:x()">a</a></p>'
    )
    assert (
        sanitize_html(dirty) == '<p>Hi<img src="cid:logo@x"><a rel="noopener noreferrer">a</a></p>'
    )


# --- attachments -------------------------------------------------------------


def test_attachments_and_inline_images() -> None:
    msg = inbound(load("attachments"))
    assert [
        (a.filename, a.content_type, a.size, a.content_id, a.inline) for a in msg.attachments
    ] == [
        ("logo.png", "image/png", 70, "part1.Kx2Yq7Lm.logo@acme.example", True),
        ("Rechnung März 2025.pdf", "application/pdf", 193, None, False),
    ]
    pdf = msg.attachments[1].data
    assert hashlib.sha256(pdf).hexdigest() == (
        "794abaa4f6f06fc519895c22944a0ab43ad02b4fb32bdefa1952ce81613cb47b"
    )
    assert msg.html is not None
    assert 'src="cid:part1.Kx2Yq7Lm.logo@acme.example"' in msg.html
    assert msg.warnings == ()


def test_oversized_attachment_is_dropped_with_a_warning() -> None:
    msg = inbound(load("attachments"), max_attachment_bytes=100)
    assert [a.filename for a in msg.attachments] == ["logo.png"]
    assert msg.warnings == ("attachment Rechnung März 2025.pdf (193 bytes) exceeds the limit",)


def test_attached_mail_stays_one_eml_and_filenames_lose_their_path() -> None:
    boundary = "XyZ"
    body = (
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the two files.\r\n"
        f"--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n"
        "From: Courier <noreply@courier.example>\r\nSubject: Parcel delayed\r\n\r\nSorry.\r\n"
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        'Content-Disposition: attachment; filename="../../etc/notes.txt"\r\n\r\nnotes\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    msg = inbound(mail(body=body, content_type=f'multipart/mixed; boundary="{boundary}"'))
    assert msg.text == "See the two files."
    eml, notes = msg.attachments
    assert (eml.filename, eml.content_type, eml.inline) == (
        "attachment-2.eml",
        "message/rfc822",
        False,
    )
    inner = email.message_from_bytes(eml.data, policy=email.policy.default)
    assert inner["Subject"] == "Parcel delayed"
    assert (notes.filename, notes.data) == ("notes.txt", b"notes")


def test_broken_inner_boundary_keeps_the_readable_parts() -> None:
    # The stdlib's get_body raises AttributeError on a multipart/related whose
    # boundary never appears; the mail must still come through.
    body = (
        b"--A\r\nContent-Type: multipart/related; boundary=B\r\n\r\nno inner boundary here\r\n"
        b"--A\r\nContent-Type: text/plain\r\n\r\nThe part that survived.\r\n--A--\r\n"
    )
    msg = inbound(mail(body=body, content_type="multipart/mixed; boundary=A"))
    assert msg.text == "The part that survived."
    assert msg.warnings == ("part 1 has a broken MIME structure and was skipped",)
