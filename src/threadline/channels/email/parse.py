"""Turn one raw inbound email into an InboundMessage, a StatusUpdate or Ignored.

Pure: the caller has already stored the raw bytes and hands them over with the
SMTP envelope when there was one (IMAP has none). A mail we cannot use raises
MalformedEmail, so the caller quarantines the raw bytes instead of losing them.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.headerregistry import AddressHeader, DateHeader
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr

import html2text
import nh3
from mailparser_reply import EmailMessage as ReplySplitter  # type: ignore[import-untyped]
from selectolax.lexbor import LexborHTMLParser

from threadline.core.identity import InvalidIdentity, normalize_email
from threadline.core.model import (
    Attachment,
    Channel,
    DeliveryStatus,
    IdentityRef,
    Ignored,
    InboundMessage,
    ParseResult,
    StatusUpdate,
    ThreadHints,
)

__all__ = [
    "MalformedEmail",
    "html_to_text",
    "latest_reply",
    "parse_email",
    "sanitize_html",
    "verp_token",
]

DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024


class MalformedEmail(ValueError):
    """The bytes are not a mail we can turn into a message; quarantine them."""


def parse_email(
    raw: bytes,
    *,
    rcpt_tos: Sequence[str] = (),
    mail_from: str | None = None,
    our_domains: Sequence[str] = (),
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
) -> ParseResult:
    """Parse ``raw`` as received.

    ``mail_from`` is the SMTP envelope sender ("" for the null sender, None when
    unknown, as with IMAP). ``our_domains``, when given, limits reply+/bounce+
    tokens to our own addresses and lets us recognise our own mail coming back.
    """
    msg = message_from_bytes(raw, policy=policy.default)
    if not msg.keys():
        raise MalformedEmail("no headers: this is not an email")
    subject = _header(msg, "Subject")
    recipients = _recipients(msg, rcpt_tos)
    verp = verp_token(recipients, our_domains=our_domains)

    report = _delivery_report(msg, verp)
    if report is not None:
        return report
    if verp is not None:
        return _bounce_address_mail(msg, verp, subject, mail_from)
    message_ids = _ids(_header(msg, "Message-ID"))
    if message_ids and _is_ours(message_ids[0], our_domains):
        return Ignored("our own message came back")
    automatic = _automatic(msg, mail_from)
    if automatic is not None:
        return Ignored(automatic)

    sender_name, sender_addr = _sender(msg)
    warnings: list[str] = []
    verified = True
    failed = _auth_failures(msg)
    if failed:
        verified = False
        warnings.append(f"{failed} failed: the sender may be forged")

    full_text, text, html = _bodies(msg)
    attachments, too_big = _attachments(msg, max_attachment_bytes)
    warnings.extend(too_big)
    ticket = _TICKET.search(subject)
    return InboundMessage(
        channel=Channel.EMAIL,
        provider_message_id=message_ids[0] if message_ids else _digest(raw),
        sender=IdentityRef("email", sender_addr, verified),
        sender_name=sender_name,
        text=text,
        full_text=full_text,
        html=html,
        attachments=attachments,
        hints=ThreadHints(
            message_ids=_thread_ids(msg),
            reply_token=_plus_token(recipients, "reply", our_domains),
            ticket_number=int(ticket.group(1)) if ticket else None,
            subject=subject or None,
        ),
        sent_at=_sent_at(msg),
        warnings=tuple(warnings),
        meta={
            "message_id": message_ids[0] if message_ids else "",
            "subject": subject,
            "to": _header(msg, "To"),
            "cc": _header(msg, "Cc"),
        },
    )


def verp_token(rcpt_tos: Iterable[str], *, our_domains: Sequence[str] = ()) -> str | None:
    """The <token> of the first ``bounce+<token>@domain`` recipient, if any."""
    return _plus_token(rcpt_tos, "bounce", our_domains)


# --- headers ----------------------------------------------------------------

_ID = re.compile(r"<([^<>\s]+)>")
_TICKET = re.compile(r"\[#(\d+)\]")
_AUTH_FAIL = re.compile(r"\b(dmarc|dkim)\s*=\s*fail\b", re.IGNORECASE)
# Mirrors compose.make_message_id: only a Message-ID we minted can be our echo.
_OWN_ID = re.compile(r"ticket-\d+\.msg-\d+@(?P<domain>.+)", re.IGNORECASE)
_HEADER_ERRORS = (ValueError, IndexError, TypeError, AttributeError)


def _header(msg: Message, name: str) -> str:
    values = _header_all(msg, name)
    return values[0] if values else ""


def _header_all(msg: Message, name: str) -> list[str]:
    # policy.default parses headers lazily and a few malformed ones raise rather
    # than record a defect; a bad optional header must not cost us the mail.
    try:
        return [str(v).strip() for v in msg.get_all(name, [])]
    except _HEADER_ERRORS:
        return [v.strip() for k, v in msg.raw_items() if k.lower() == name.lower()]


def _ids(value: str) -> list[str]:
    found = _ID.findall(value)
    if not found:  # some clients drop the angle brackets
        found = [word for word in value.split() if "@" in word]
    return list(dict.fromkeys(found))


def _thread_ids(msg: Message) -> tuple[str, ...]:
    # References runs oldest to newest and In-Reply-To names the parent, so this
    # order keeps ThreadHints' "newest last" even when a client sends only one.
    ids = _ids(" ".join(_header_all(msg, "References")))
    ids += _ids(" ".join(_header_all(msg, "In-Reply-To")))
    return tuple(dict.fromkeys(ids))


def _is_ours(message_id: str, our_domains: Sequence[str]) -> bool:
    match = _OWN_ID.fullmatch(message_id)
    return match is not None and match["domain"].lower() in {d.lower() for d in our_domains}


def _recipients(msg: Message, rcpt_tos: Sequence[str]) -> list[str]:
    # The envelope first: it is what our MTA saw. Headers cover IMAP, where
    # Delivered-To / X-Original-To are the only trace of a plus address.
    found = [parseaddr(r)[1] for r in rcpt_tos]
    for name in ("Delivered-To", "X-Original-To", "To", "Cc"):
        found += [addr for _, addr in getaddresses(_header_all(msg, name))]
    return [a for a in found if a]


def _plus_token(addresses: Iterable[str], prefix: str, our_domains: Sequence[str]) -> str | None:
    domains = {d.lower() for d in our_domains}
    for address in addresses:
        local, _, domain = address.strip().strip("<>").rpartition("@")
        tag, plus, token = local.partition("+")
        if plus and token and tag.lower() == prefix and (not domains or domain.lower() in domains):
            return token  # signed tokens are case-sensitive: keep it as sent
    return None


def _automatic(msg: Message, mail_from: str | None) -> str | None:
    """Why this mail was written by a machine (RFC 3834, RFC 2369/2919), if it was."""
    auto = _header(msg, "Auto-Submitted").split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"auto-submitted: {auto}"
    precedence = _header(msg, "Precedence").lower()
    if precedence in {"bulk", "junk", "list"}:
        return f"precedence: {precedence}"
    if "List-Id" in msg or "List-Unsubscribe" in msg:
        return "mailing list"
    if mail_from == "" or "".join(_header(msg, "Return-Path").split()) == "<>":
        return "null sender"
    # Exchange stamps X-Auto-Response-Suppress on its own automatic mail (OOF,
    # NDRs, rules), but Outlook and apps also send "DR, RN, NRN" or "AutoReply"
    # on ordinary mail just to ask for no receipts. Only All or OOF are strong
    # enough to call the mail automatic.
    suppress = {v.strip().lower() for v in _header(msg, "X-Auto-Response-Suppress").split(",")}
    for value in ("all", "oof"):
        if value in suppress:
            return f"auto-response-suppress: {value}"
    return None


def _sender(msg: Message) -> tuple[str | None, str]:
    try:
        headers = msg.get_all("From", [])
        pairs = [
            (a.display_name, a.addr_spec)
            for h in headers
            if isinstance(h, AddressHeader)
            for a in h.addresses
        ]
    except _HEADER_ERRORS:
        pairs = getaddresses(_header_all(msg, "From"))
    for name, addr in pairs:
        if "@" not in addr:
            continue
        try:
            return (name or None), normalize_email(addr)
        except InvalidIdentity:
            continue
    raise MalformedEmail(f"no usable From address: {_header(msg, 'From')!r}")


def _auth_failures(msg: Message) -> str | None:
    # Anyone can add an Authentication-Results header, but a forged one can only
    # lower trust here, so reading all of them is safe.
    results = _header_all(msg, "Authentication-Results")
    kinds = {kind.lower() for value in results for kind in _AUTH_FAIL.findall(value)}
    return next((k.upper() for k in ("dmarc", "dkim") if k in kinds), None)


def _sent_at(msg: Message) -> datetime | None:
    try:
        header = msg.get("Date")
        when = header.datetime if isinstance(header, DateHeader) else None
    except _HEADER_ERRORS:
        return None
    if when is None:
        return None
    # "-0000" means UTC with the sender's zone unknown (RFC 5322 §3.3).
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _digest(raw: bytes) -> str:
    # Stable across SMTP retries and IMAP refetches of the same bytes.
    return "sha256:" + hashlib.sha256(raw).hexdigest()


# --- bounces ----------------------------------------------------------------

_REPORT_TYPES = {"delivery-status", "global-delivery-status"}
_DSN_PARTS = {"message/delivery-status", "message/global-delivery-status"}
_HEADERS_PARTS = {"text/rfc822-headers", "message/global-headers"}
_MESSAGE_PARTS = {"message/rfc822", "message/global"}


def _delivery_report(msg: Message, verp: str | None) -> ParseResult | None:
    """A RFC 3464 DSN as a StatusUpdate (failures) or Ignored (delays, successes)."""
    report_type = str(msg.get_param("report-type", "")).lower()
    if msg.get_content_type() != "multipart/report" or report_type not in _REPORT_TYPES:
        return None
    fields: list[Message] = []
    original: list[str] = []
    for part in _children(msg):
        ctype = part.get_content_type()
        if ctype in _DSN_PARTS:
            fields += [b for b in _dsn_blocks(part) if "Action" in b]
        elif ctype in _MESSAGE_PARTS:
            for inner in _children(part)[:1]:
                original += _ids(_header(inner, "Message-ID"))
        elif ctype in _HEADERS_PARTS:
            headers = HeaderParser(policy=policy.default).parsestr(_part_text(part))
            original += _ids(_header(headers, "Message-ID"))
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
    payload = part.get_payload()
    if isinstance(payload, list):  # the stdlib splits message/delivery-status itself
        return [p for p in payload if isinstance(p, Message)]
    parser = HeaderParser(policy=policy.default)
    return [parser.parsestr(b) for b in re.split(r"\r?\n[ \t]*\r?\n", _part_text(part))]


def _action(block: Message) -> str:
    words = _header(block, "Action").split()  # some MTAs append a comment
    return words[0].lower() if words else ""


def _dsn_error(block: Message) -> str:
    diagnostic = " ".join(_header(block, "Diagnostic-Code").split())
    diagnostic = re.sub(r"^[\w.-]+;\s*", "", diagnostic)  # drop the "smtp;" type tag
    return f"{_header(block, 'Status')} {diagnostic or _header(block, 'Action')}".strip()


def _dsn_address(block: Message) -> str:
    value = _header(block, "Final-Recipient") or _header(block, "Original-Recipient")
    address = value.partition(";")[2].strip() if ";" in value else value.strip()
    try:
        return normalize_email(address)
    except InvalidIdentity:
        return address


def _bounce_address_mail(
    msg: Message, verp: str, subject: str, mail_from: str | None
) -> ParseResult:
    # Mail to a VERP address is never a customer message. Mailer daemons that
    # ignore RFC 3464 still send from the null sender or postmaster; anything
    # else there is an auto-reply that went to our Return-Path.
    from_local = parseaddr(_header(msg, "From"))[1].partition("@")[0].lower()
    null = mail_from == "" or "".join(_header(msg, "Return-Path").split()) == "<>"
    if null or from_local in {"mailer-daemon", "postmaster"}:
        return StatusUpdate(
            status=DeliveryStatus.FAILED,
            provider_message_ids=(f"verp:{verp}",),
            error=f"non-standard bounce: {subject}".strip(),
        )
    return Ignored("mail to the bounce address")


# --- bodies -----------------------------------------------------------------

_REPLY_LANGUAGES = ("en", "de", "fr", "es")
_QUOTES = (".gmail_quote", "blockquote[type=cite]", ".moz-cite-prefix")
_QUOTES_FROM_HERE_ON = ("#appendonsend", "#divRplyFwdMsg")
_FORWARD_MARKER = re.compile(
    r"\n*^[ >]*(?:-+ ?(?:Forwarded message|Weitergeleitete Nachricht|Original Message"
    r"|Message transféré|Mensaje reenviado) ?-+|Begin forwarded message:"
    r"|Anfang der weitergeleiteten Nachricht:)\s*\Z",
    re.IGNORECASE | re.MULTILINE,
)
_LATIN1 = {"latin_1", "iso8859-1"}


def _bodies(msg: EmailMessage) -> tuple[str, str, str | None]:
    body = _get_body(msg, ("plain", "html"))
    html_part = _get_body(msg, ("html",))
    source = _part_text(html_part) if html_part is not None else None
    html = sanitize_html(source) if source is not None else None
    if body is None:
        return "", "", html
    if body is html_part and source is not None:
        full, newest = html_to_text(source, strip_quotes=False), html_to_text(source)
    else:
        full = newest = _tidy(_part_text(body))
    return full, latest_reply(newest) or newest or full, html


def _get_body(msg: EmailMessage, preferences: tuple[str, ...]) -> Message | None:
    try:
        return msg.get_body(preferencelist=preferences)
    except (AttributeError, TypeError):
        # get_body trips over a multipart whose boundary is broken (its payload
        # stays a string); settle for the first matching text part we can reach.
        for subtype in preferences:
            for part in _leaves(msg):
                wanted = part.get_content_type() == f"text/{subtype}"
                if wanted and part.get_content_disposition() != "attachment":
                    return part
        return None


def latest_reply(text: str) -> str:
    """The newest reply in ``text``: quoted history and signature removed.

    Returns "" when nothing is left, so the caller can fall back to the full text.
    """
    # EmailReplyParser.read() would build this same object, but cannot pass
    # keep_hyphen_lists: without it a "- 2 lamps" bullet counts as a "-Peter"
    # sign-off and everything below it disappears.
    splitter = ReplySplitter(text=text, languages=list(_REPLY_LANGUAGES), keep_hyphen_lists=True)
    replies = splitter.read().replies
    if not replies:
        return ""
    reply = replies[0]
    body = reply.body if _plausible_signature(reply.signatures) else reply.full_body
    return _tidy(_FORWARD_MARKER.sub("", str(body)))


def _plausible_signature(signature: str) -> bool:
    # mail-parser-reply treats any line starting "Thanks," as a sign-off and cuts
    # everything below it, which would eat "Thanks, that fixed it! But ...".
    # A real sign-off line holds at most a short name after the comma.
    lines = signature.strip().splitlines()
    first = lines[0].lstrip("> ").strip() if lines else ""
    _, comma, rest = first.partition(",")
    words = rest.split()
    return not comma or (len(words) <= 4 and all(w[:1].isupper() for w in words))


def html_to_text(html: str, *, strip_quotes: bool = True) -> str:
    """Readable text (Markdown-ish) from mail HTML, quoted history cut when asked."""
    tree = LexborHTMLParser(html)
    if strip_quotes:
        for selector in _QUOTES:
            # Query again after each removal: a quote can hold another quote,
            # and a node freed with its parent must not be touched again.
            while (node := tree.css_first(selector)) is not None:
                node.decompose()
        for selector in _QUOTES_FROM_HERE_ON:
            start = tree.css_first(selector)
            while start is not None:
                following = start.next
                start.decompose()
                start = following
    for cell in tree.css("td, th"):
        cell.insert_after(" ")  # without tables, html2text would glue cells together
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True  # tracking pixels and cid: logos are noise in text
    converter.unicode_snob = True
    converter.ignore_tables = True  # mail uses tables for layout; cells are not data
    return _tidy(converter.handle(tree.html or ""))


def sanitize_html(html: str) -> str:
    """HTML safe to show an agent; cid: images survive for the UI to rewrite."""
    return nh3.clean(
        html,
        clean_content_tags={"script", "style", "title"},
        url_schemes=nh3.ALLOWED_URL_SCHEMES | {"cid"},
        link_rel="noopener noreferrer",
    ).strip()


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\ufeff", "").replace("\xa0", " ")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n").rstrip()


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return _decode(payload, part.get_content_charset())


def _decode(data: bytes, charset: str | None) -> str:
    try:
        codec = codecs.lookup((charset or "us-ascii").strip().strip('"'))
    except (LookupError, ValueError):  # "x-unknown", typos: most such mail is UTF-8
        return data.decode("utf-8", errors="replace")
    if codec.name == "ascii":
        # Unlabelled 8-bit text is UTF-8 far more often than anything else.
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("cp1252", errors="replace")
    if codec.name in _LATIN1:
        # Outlook labels windows-1252 text (€, curly quotes) as ISO-8859-1;
        # browsers read the label as windows-1252 for the same reason (WHATWG).
        return data.decode("cp1252", errors="replace")
    return data.decode(codec.name, errors="replace")


# --- attachments ------------------------------------------------------------

_EXTENSIONS = {
    "message/rfc822": ".eml",
    "text/calendar": ".ics",
    "text/plain": ".txt",
    "text/html": ".html",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "application/pdf": ".pdf",
}


def _attachments(msg: EmailMessage, limit: int) -> tuple[tuple[Attachment, ...], list[str]]:
    bodies = [_get_body(msg, p) for p in (("plain", "html"), ("html",))]
    found: list[Attachment] = []
    warnings: list[str] = []
    for index, part in enumerate(_leaves(msg), start=1):
        if any(part is b for b in bodies):
            continue
        ctype = part.get_content_type()
        if part.get_content_maintype() == "multipart":
            warnings.append(f"part {index} has a broken MIME structure and was skipped")
            continue
        disposition = part.get_content_disposition()
        cids = _ids(_header(part, "Content-ID"))
        cid = cids[0] if cids else None
        filename = _safe_filename(part.get_filename())
        if not filename and disposition != "attachment" and part.get_content_maintype() == "text":
            continue  # an unnamed text part is more body (or a calendar alternative), not a file
        name = filename or f"attachment-{index}{_EXTENSIONS.get(ctype, '.bin')}"
        data = _part_bytes(part)
        if len(data) > limit:
            warnings.append(f"attachment {name} ({len(data)} bytes) exceeds the limit")
            continue
        inline = disposition == "inline" or (disposition is None and cid is not None)
        found.append(Attachment(name, ctype, data, content_id=cid, inline=inline))
    return tuple(found), warnings


def _children(part: Message) -> list[Message]:
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _leaves(part: Message) -> Iterator[Message]:
    # An attached mail stays one .eml file instead of spilling its parts here.
    if part.is_multipart() and part.get_content_type() not in _MESSAGE_PARTS:
        for child in _children(part):
            yield from _leaves(child)
    else:
        yield part


def _part_bytes(part: Message) -> bytes:
    if part.get_content_type() in _MESSAGE_PARTS and part.is_multipart():
        inner = _children(part)
        return inner[0].as_bytes() if inner else b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _safe_filename(name: str | None) -> str | None:
    if not name:
        return None
    # The name is chosen by the sender: keep no path and no control characters.
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base if base.strip(".") else None
