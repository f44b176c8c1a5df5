"""The readable body of an inbound mail: the text an agent sees, its HTML, its files.

Mail arrives with mislabelled charsets, quoted history, signatures, hostile
HTML and broken MIME trees; each quirk is settled here once, so the top-level
parse only asks for "the text", "the newest reply" and "the attachments".
"""

from __future__ import annotations

import binascii
import codecs
import re
from collections.abc import Iterator
from email.message import EmailMessage, Message

import html2text
import nh3
from mailparser_reply import EmailMessage as ReplySplitter  # type: ignore[import-untyped]
from selectolax.lexbor import LexborHTMLParser

from threadline.channels.email.headers import header, message_ids
from threadline.channels.email.spill import spilled_bytes
from threadline.core.model import Attachment

__all__ = [
    "MESSAGE_PARTS",
    "attachments",
    "bodies",
    "children",
    "html_to_text",
    "latest_reply",
    "part_text",
    "sanitize_html",
]

MESSAGE_PARTS = {"message/rfc822", "message/global"}
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
# mail-parser-reply's regexes cost about 0.6 s a MB of text. The newest reply
# sits at the top and nobody types 64 KiB into one; full_text keeps everything.
REPLY_SCAN_CHARS = 64 * 1024
# html2text is pure Python, about 1 s a MB of HTML. Past this size the text
# comes from lexbor's C extraction instead: plainer (no Markdown), but linear.
HTML2TEXT_CHARS = 256 * 1024
_TIDY_SLICE = 256 * 1024
_NEWLINES = re.compile(r"\n+")
_BLANK_LINES = re.compile(r"\n{3,}")
_BLOCKS = "p, div, br, tr, li, h1, h2, h3, h4, h5, h6, blockquote, pre, hr, table"


def bodies(msg: EmailMessage) -> tuple[str, str, str | None]:
    """``(full_text, newest_reply_text, sanitized_html)`` of ``msg``."""
    body = _get_body(msg, ("plain", "html"))
    html_part = _get_body(msg, ("html",))
    source = part_text(html_part) if html_part is not None else None
    html = sanitize_html(source) if source is not None else None
    if body is None:
        return "", "", html
    if body is html_part and source is not None:
        full, newest = html_to_text(source, strip_quotes=False), html_to_text(source)
    else:
        full = newest = _tidy(part_text(body))
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
    Only the first REPLY_SCAN_CHARS are searched; when nothing there is quoted
    history, this also returns "" (the whole text is the reply).
    """
    head = text[:REPLY_SCAN_CHARS]
    reply = _latest_reply(head)
    if len(head) < len(text) and reply == _tidy(head):
        return ""
    return reply


def _latest_reply(text: str) -> str:
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
        # :not(html): lexbor refuses to free the root, and a quote marker on
        # <html> says nothing about where the quote starts.
        for selector in _QUOTES:
            # Query again after each removal: a quote can hold another quote,
            # and a node freed with its parent must not be touched again.
            while (node := tree.css_first(f"{selector}:not(html)")) is not None:
                node.decompose()
        for selector in _QUOTES_FROM_HERE_ON:
            start = tree.css_first(f"{selector}:not(html)")
            while start is not None:
                following = start.next
                start.decompose()
                start = following
    for cell in tree.css("td, th"):
        cell.insert_after(" ")  # without tables, html2text would glue cells together
    if len(html) > HTML2TEXT_CHARS:
        for block in tree.css(_BLOCKS):
            block.insert_after("\n")
        return _tidy(tree.body.text(separator="") if tree.body is not None else "")
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
    # In slices that end after a run of newlines, so no line and no blank run
    # is cut in two: one regex call over a whole 18 MB body held the GIL for
    # half a second (the event loop stalled with it), and one split() of it
    # cost ~90 bytes a line.
    pieces: list[str] = []
    start = trailing = 0
    while start < len(text):
        cut = text.find("\n", start + _TIDY_SLICE)
        found = _NEWLINES.match(text, cut) if cut >= 0 else None
        end = found.end() if found else len(text)
        piece = "\n".join(line.rstrip() for line in text[start:end].split("\n"))
        piece = _BLANK_LINES.sub("\n\n", piece)
        lead = len(piece) - len(piece.lstrip("\n"))
        if trailing + lead > 2:
            # Lines of spaces at the end of the last slice became a blank run
            # that continues into this one.
            piece = piece[lead - max(0, 2 - trailing) :]
        body = piece.rstrip("\n")
        trailing = trailing + len(piece) if not body else len(piece) - len(body)
        pieces.append(piece)
        start = end
    return "".join(pieces).strip("\n").rstrip()


def part_text(part: Message) -> str:
    """The decoded text of one MIME part, whatever charset it claims."""
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
    try:
        return data.decode(codec.name, errors="replace")
    except (UnicodeError, LookupError):
        # The label names a codec that is no charset: bytes.decode refuses
        # "rot13", "base64" or "zlib", and idna, punycode and "undefined"
        # refuse errors="replace".
        return data.decode("utf-8", errors="replace")


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


def attachments(msg: EmailMessage, limit: int) -> tuple[tuple[Attachment, ...], list[str]]:
    """Every part that is not the body, as files; warnings for what was dropped."""
    body_parts = [_get_body(msg, p) for p in (("plain", "html"), ("html",))]
    found: list[Attachment] = []
    warnings: list[str] = []
    for index, part in enumerate(_leaves(msg), start=1):
        if any(part is b for b in body_parts):
            continue
        ctype = part.get_content_type()
        if part.get_content_maintype() == "multipart":
            warnings.append(f"part {index} has a broken MIME structure and was skipped")
            continue
        disposition = part.get_content_disposition()
        cids = message_ids(header(part, "Content-ID"))
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


def children(part: Message) -> list[Message]:
    """The direct subparts of ``part``; none when its payload is not a list."""
    if not part.is_multipart():
        # get_payload() of a leaf would decode (and copy) its text only to be dropped.
        return []
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _leaves(part: Message) -> Iterator[Message]:
    # An attached mail stays one .eml file instead of spilling its parts here.
    if part.is_multipart() and part.get_content_type() not in MESSAGE_PARTS:
        for child in children(part):
            yield from _leaves(child)
    else:
        yield part


def _part_bytes(part: Message) -> bytes:
    if part.get_content_type() in MESSAGE_PARTS and part.is_multipart():
        inner = children(part)
        return inner[0].as_bytes() if inner else b""
    spilled = spilled_bytes(part)
    if spilled is not None:
        return spilled
    try:
        # A payload holding raw 8-bit bytes is decoded with the part's charset
        # here, which can be a codec that refuses (idna) or no codec at all.
        raw = part.get_payload()
    except ValueError:
        raw = None
    if isinstance(raw, str) and str(part.get("content-transfer-encoding", "")).lower() == "base64":
        # get_payload(decode=True) encodes the text, splits it into lines and
        # joins them again before decoding: three transient copies of what is,
        # for the largest attachment, most of the mail. binascii skips the line
        # breaks itself; anything unusual falls through to the stdlib's decoder.
        try:
            return binascii.a2b_base64(raw)
        except ValueError:  # binascii.Error, or a non-ASCII str
            pass
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _safe_filename(name: str | None) -> str | None:
    if not name:
        return None
    # The name is chosen by the sender: keep no path and no control characters.
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base if base.strip(".") else None
