"""The outbound mail an agent reply (or an automatic acknowledgement) becomes.

Pure: it builds an EmailMessage and nothing else. Signing (DKIM) and sending
belong to the sender, which serializes with policy.SMTP so the bytes it signs
are the bytes it transmits.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from threadline.core import continuity

__all__ = ["compose_reply", "normalize_subject"]

_ALREADY_REPLY = re.compile(r"^\s*re\s*(?:\[\d+\])?\s*:", re.IGNORECASE)
_BLANK_LINE = re.compile(r"\n[ \t]*\n+")


def compose_reply(
    *,
    from_addr: str,
    from_name: str | None,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    in_reply_to: str | None,
    references: Sequence[str],
    reply_to: str | None,
    auto_reply: bool = False,
    date: datetime,
    attachments: Sequence[tuple[str, str, bytes]] = (),
    reply: bool = True,
) -> EmailMessage:
    """A text/plain + text/html reply that threads under ``in_reply_to``.

    ``reply`` False: a mail that answers nothing (a transcript, an alert), whose
    subject is kept as it is, without "Re:".

    ``attachments`` are (filename, content type, bytes): with any, the message
    becomes multipart/mixed, the text and HTML first, each file after, base64.

    ``references`` are the parent's own References; ids may come with or without
    angle brackets. ``html`` None means: derive a plain HTML version of ``text``.
    """
    if date.tzinfo is None:
        raise ValueError("date must be timezone-aware")
    msg = EmailMessage()
    msg["From"] = Address(display_name=_one_line(from_name or ""), addr_spec=from_addr)
    msg["To"] = to
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = _reply_subject(subject) if reply else _one_line(subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = f"<{_bare(message_id)}>"
    parent = _bare(in_reply_to or "")
    if parent:
        msg["In-Reply-To"] = f"<{parent}>"
    # RFC 5322 §3.6.4: the parent's References, then the parent itself. Clients
    # that lost the chain (or the parent's In-Reply-To) still find the thread.
    chain = dict.fromkeys(i for i in (*map(_bare, references), parent) if i)
    if chain:
        msg["References"] = " ".join(f"<{i}>" for i in chain)
    if auto_reply:
        # RFC 3834 §3.1.7, plus Exchange's own hint, so no responder answers us
        # and two autoresponders cannot ping-pong.
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    # Quoted-printable keeps the bytes 7-bit: some relays still lack 8BITMIME,
    # and DKIM breaks if a hop converts 8bit on the way.
    msg.set_content(text, cte="quoted-printable")
    body_html = html if html is not None else _text_to_html(text)
    msg.add_alternative(body_html, subtype="html", cte="quoted-printable")
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(
            data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=_one_line(filename),
        )
    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]  # the stdlib repeats it on parts; it belongs on top only
    return msg


def normalize_subject(subject: str) -> str:
    """The subject key continuity compares: prefixes, [#123] and case dropped.

    Delegates to core.continuity so the key stored for a conversation and the
    key computed for an incoming mail can never drift apart.
    """
    return continuity.normalize_subject(subject)


def _reply_subject(subject: str) -> str:
    subject = _one_line(subject)
    return subject if _ALREADY_REPLY.match(subject) else f"Re: {subject}".rstrip()


def _one_line(value: str) -> str:
    # Customer subjects reach us decoded; a stray CR/LF must not become a header break.
    return " ".join(value.split())


def _bare(message_id: str) -> str:
    return message_id.strip().strip("<>").strip()


def _text_to_html(text: str) -> str:
    paragraphs = [p.strip("\n") for p in _BLANK_LINE.split(text.replace("\r\n", "\n"))]
    body = "\n".join(
        "<p>" + html_lib.escape(p).replace("\n", "<br>\n") + "</p>" for p in paragraphs if p.strip()
    )
    return f"<!DOCTYPE html>\n<html><body>\n{body}\n</body></html>\n"
