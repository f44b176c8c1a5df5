"""Bounces: RFC 3464 delivery reports and mail sent back to our VERP address.

A bounce is never a customer message; it tells us an outbound message failed.
Keeping DSN reading apart from parse_email lets the top-level flow turn a
report into a StatusUpdate with one call and never mistake one for a reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from email import policy
from email.message import Message
from email.parser import HeaderParser
from email.utils import parseaddr

from threadline.channels.email.body import MESSAGE_PARTS, children, part_text
from threadline.channels.email.headers import header, message_ids, plus_token
from threadline.core.identity import InvalidIdentity, normalize_email
from threadline.core.model import DeliveryStatus, Ignored, ParseResult, StatusUpdate

__all__ = ["bounce_address_mail", "delivery_report", "verp_token"]

_REPORT_TYPES = {"delivery-status", "global-delivery-status"}
_DSN_PARTS = {"message/delivery-status", "message/global-delivery-status"}
_HEADERS_PARTS = {"text/rfc822-headers", "message/global-headers"}
# These parts are read with a parser of their own, outside limits.py's budget.
# A real report's fields and returned headers fit in a few KiB.
_DSN_TEXT_CHARS = 64 * 1024


def verp_token(rcpt_tos: Iterable[str], *, our_domains: Sequence[str] = ()) -> str | None:
    """The <token> of the first ``bounce+<token>@domain`` recipient, if any."""
    return plus_token(rcpt_tos, "bounce", our_domains)


def delivery_report(msg: Message, verp: str | None) -> ParseResult | None:
    """A RFC 3464 DSN as a StatusUpdate (failures) or Ignored (delays, successes)."""
    report_type = str(msg.get_param("report-type", "")).lower()
    if msg.get_content_type() != "multipart/report" or report_type not in _REPORT_TYPES:
        return None
    fields: list[Message] = []
    original: list[str] = []
    for part in children(msg):
        ctype = part.get_content_type()
        if ctype in _DSN_PARTS:
            fields += [b for b in _dsn_blocks(part) if "Action" in b]
        elif ctype in MESSAGE_PARTS:
            for inner in children(part)[:1]:
                original += message_ids(header(inner, "Message-ID"))
        elif ctype in _HEADERS_PARTS:
            text = part_text(part)[:_DSN_TEXT_CHARS]
            headers = HeaderParser(policy=policy.default).parsestr(text)
            original += message_ids(header(headers, "Message-ID"))
    failed = [b for b in fields if _action(b) == "failed"]
    if not failed:
        actions = dict.fromkeys(_action(b) for b in fields)
        return Ignored("delivery report: " + (", ".join(actions) or "no recipients"))
    errors = dict.fromkeys(_dsn_error(b) for b in failed)
    ids = list(dict.fromkeys(original)) + ([f"verp:{verp}"] if verp else [])
    return StatusUpdate(
        status=DeliveryStatus.FAILED,
        provider_message_ids=tuple(ids),
        error="; ".join(errors),
        recipients=tuple(dict.fromkeys(_dsn_address(b) for b in failed if _dsn_address(b))),
    )


def _dsn_blocks(part: Message) -> list[Message]:
    if part.is_multipart():  # the stdlib splits message/delivery-status itself
        return children(part)
    parser = HeaderParser(policy=policy.default)
    text = part_text(part)[:_DSN_TEXT_CHARS]
    return [parser.parsestr(b) for b in re.split(r"\r?\n[ \t]*\r?\n", text)]


def _action(block: Message) -> str:
    words = header(block, "Action").split()  # some MTAs append a comment
    return words[0].lower() if words else ""


def _dsn_error(block: Message) -> str:
    diagnostic = " ".join(header(block, "Diagnostic-Code").split())
    diagnostic = re.sub(r"^[\w.-]+;\s*", "", diagnostic)  # drop the "smtp;" type tag
    return f"{header(block, 'Status')} {diagnostic or header(block, 'Action')}".strip()


def _dsn_address(block: Message) -> str:
    value = header(block, "Final-Recipient") or header(block, "Original-Recipient")
    address = value.partition(";")[2].strip() if ";" in value else value.strip()
    try:
        return normalize_email(address)
    except InvalidIdentity:
        return address


def bounce_address_mail(
    msg: Message, verp: str, subject: str, mail_from: str | None
) -> ParseResult:
    """What mail to our VERP address means when it is not a RFC 3464 report."""
    # Mail to a VERP address is never a customer message. Mailer daemons that
    # ignore RFC 3464 still send from the null sender or postmaster; anything
    # else there is an auto-reply that went to our Return-Path. RFC 3834 asks
    # auto-replies (an out-of-office) to use the null sender too, but they say
    # Auto-Submitted; Exim's plain bounces say it as well, and X-Failed-Recipients.
    from_local = parseaddr(header(msg, "From"))[1].partition("@")[0].lower()
    daemon = from_local in {"mailer-daemon", "postmaster"} or "X-Failed-Recipients" in msg
    auto = header(msg, "Auto-Submitted").split(";")[0].strip().lower()
    if auto and auto != "no" and not daemon:
        return Ignored(f"auto-reply to our mail (auto-submitted: {auto})")
    null = mail_from == "" or "".join(header(msg, "Return-Path").split()) == "<>"
    if null or daemon:
        return StatusUpdate(
            status=DeliveryStatus.FAILED,
            provider_message_ids=(f"verp:{verp}",),
            error=f"non-standard bounce: {subject}".strip(),
        )
    return Ignored("mail to the bounce address")
