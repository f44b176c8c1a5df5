"""parse_email's headers: who wrote, which thread a mail continues, when it was sent,
whether its sender can be trusted, and which mail is too broken to use."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from tests.channels.email.support import inbound, load, mail

from threadline.channels.email.parse import MalformedEmail, parse_email
from threadline.core.model import Channel, IdentityRef, ThreadHints

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
