"""Turn one raw inbound email into an InboundMessage, a StatusUpdate or Ignored.

Pure: the caller has already stored the raw bytes and hands them over with the
SMTP envelope when there was one (IMAP has none). A mail we cannot use raises
PayloadError (MalformedEmail, or EmailTooComplex past a bound of limits.py) and
nothing else, so the caller quarantines the raw bytes with the reason.

This module holds the order of the decisions (bounce, echo, machine, customer)
and the sender; headers, bounces, loops and body hold the details of each.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email.headerregistry import AddressHeader, DateHeader
from email.message import EmailMessage, Message
from email.utils import getaddresses

from threadline.channels.email.authn import Verdict
from threadline.channels.email.body import attachments, bodies
from threadline.channels.email.bounces import bounce_address_mail, delivery_report, verp_token
from threadline.channels.email.headers import (
    HEADER_ERRORS,
    decode_8bit,
    header,
    header_all,
    message_ids,
    plus_token,
    raw_fields,
    recipients,
    thread_ids,
)
from threadline.channels.email.limits import read_message
from threadline.channels.email.loops import automatic, is_ours
from threadline.core.identity import InvalidIdentity, normalize_email
from threadline.core.model import (
    Channel,
    IdentityRef,
    Ignored,
    InboundMessage,
    ParseResult,
    PayloadError,
    ThreadHints,
)

__all__ = ["MalformedEmail", "parse_email"]

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
# A conversation id fits in 64 bits: a longer number is no ticket of ours, and read
# as one it overflowed the database driver and lost the mail to quarantine.
_TICKET = re.compile(r"\[#(\d{1,18})\]")
_AUTH_FAIL = re.compile(r"\b(dmarc|dkim)\s*=\s*fail\b", re.IGNORECASE)


class MalformedEmail(PayloadError):
    """The bytes are not a mail we can turn into a message; quarantine them."""


def parse_email(
    raw: bytes,
    *,
    rcpt_tos: Sequence[str] = (),
    mail_from: str | None = None,
    our_domains: Sequence[str] = (),
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    auth: Verdict | None = None,
) -> ParseResult:
    """Parse ``raw`` as received.

    ``mail_from`` is the SMTP envelope sender ("" for the null sender, None when
    unknown, as with IMAP). ``our_domains``, when given, limits reply+/bounce+
    tokens to our own addresses and lets us recognise our own mail coming back.
    ``auth`` is our own SPF/DKIM/DMARC verdict, when our SMTP server took the mail.
    """
    try:
        msg = read_message(raw)
        return _interpret(msg, raw, rcpt_tos, mail_from, our_domains, max_attachment_bytes, auth)
    except PayloadError:
        raise
    except Exception as exc:
        # Each reader degrades on the malformed input we know of (headers.py,
        # body.py); this is the net under the paths of the stdlib, lexbor and
        # html2text we have not met yet, so that no mail stops ingest: it is
        # quarantined with what went wrong. The fuzz suite fails on any use of it.
        raise MalformedEmail(f"unreadable email: {type(exc).__name__}: {exc}") from exc


def _interpret(
    msg: EmailMessage,
    raw: bytes,
    rcpt_tos: Sequence[str],
    mail_from: str | None,
    our_domains: Sequence[str],
    max_attachment_bytes: int,
    auth: Verdict | None,
) -> ParseResult:
    if not msg.keys():
        raise MalformedEmail("no headers: this is not an email")
    subject = header(msg, "Subject")
    to = recipients(msg, rcpt_tos)
    verp = verp_token(to, our_domains=our_domains)

    report = delivery_report(msg, verp)
    if report is not None:
        return report
    if verp is not None:
        return bounce_address_mail(msg, verp, subject, mail_from)
    ids = message_ids(header(msg, "Message-ID"))
    if ids and is_ours(ids[0], our_domains):
        return Ignored("our own message came back")
    machine = automatic(msg, mail_from)
    if machine is not None:
        return Ignored(machine)

    sender_name, sender_addr = _sender(msg)
    warnings: list[str] = []
    verified = True
    failed = _auth_failures(msg) or ("DMARC" if auth is not None and auth.forged else None)
    if failed:
        verified = False
        warnings.append(f"{failed} failed: the sender may be forged")

    full_text, text, html = bodies(msg)
    files, too_big = attachments(msg, max_attachment_bytes)
    warnings.extend(too_big)
    ticket = _TICKET.search(subject)
    return InboundMessage(
        channel=Channel.EMAIL,
        provider_message_id=ids[0] if ids else _digest(raw),
        sender=IdentityRef("email", sender_addr, verified),
        sender_name=sender_name,
        text=text,
        full_text=full_text,
        html=html,
        attachments=files,
        hints=ThreadHints(
            message_ids=thread_ids(msg),
            reply_token=plus_token(to, "reply", our_domains),
            ticket_number=int(ticket.group(1)) if ticket else None,
            subject=subject or None,
        ),
        sent_at=_sent_at(msg),
        warnings=tuple(warnings),
        meta={
            "message_id": ids[0] if ids else "",
            "subject": subject,
            "to": header(msg, "To"),
            "cc": header(msg, "Cc"),
        },
    )


def _sender(msg: Message) -> tuple[str | None, str]:
    try:
        headers = [msg.policy.header_fetch_parse("From", v) for v in raw_fields(msg, "From")]
        pairs = [
            (a.display_name, a.addr_spec)
            for h in headers
            if isinstance(h, AddressHeader)
            for a in h.addresses
        ]
    except HEADER_ERRORS:
        pairs = getaddresses(header_all(msg, "From"))
    for name, addr in pairs:
        if "@" not in addr:
            continue
        try:
            # An encoded word in a charset it does not hold (=?utf-8?q?Andr=E9?=)
            # leaves surrogates in the display name even after INBOUND's decoding.
            return (decode_8bit(name) or None), normalize_email(addr)
        except (InvalidIdentity, *HEADER_ERRORS):  # normalize_email lets HeaderParseError out
            continue
    raise MalformedEmail(f"no usable From address: {header(msg, 'From')!r}")


def _auth_failures(msg: Message) -> str | None:
    # Anyone can add an Authentication-Results header, but a forged one can only
    # lower trust here, so reading all of them is safe.
    results = header_all(msg, "Authentication-Results")
    kinds = {kind.lower() for value in results for kind in _AUTH_FAIL.findall(value)}
    return next((k.upper() for k in ("dmarc", "dkim") if k in kinds), None)


def _sent_at(msg: Message) -> datetime | None:
    try:
        date = msg.get("Date")
        when = date.datetime if isinstance(date, DateHeader) else None
    except HEADER_ERRORS:
        return None
    if when is None:
        return None
    # "-0000" means UTC with the sender's zone unknown (RFC 5322 §3.3).
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _digest(raw: bytes) -> str:
    # Stable across SMTP retries and IMAP refetches of the same bytes.
    return "sha256:" + hashlib.sha256(raw).hexdigest()
