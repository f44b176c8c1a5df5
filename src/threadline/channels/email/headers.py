"""Reading the headers of an inbound mail without losing the mail to one bad header.

Bounces, loop checks, bodies and the top-level parse all read headers, and all
of them must survive malformed ones the same way, so the readers live once here
together with the address and Message-ID rules that threading depends on.
"""

from __future__ import annotations

import email.policy
import re
from collections.abc import Callable, Iterable, Sequence
from email.errors import MessageError
from email.headerregistry import BaseHeader, UnstructuredHeader
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from email.utils import getaddresses, parseaddr
from typing import TYPE_CHECKING, Any

__all__ = [
    "HEADER_ERRORS",
    "INBOUND",
    "MAX_FIELDS_READ",
    "decode_8bit",
    "header",
    "header_all",
    "message_ids",
    "plus_token",
    "raw_fields",
    "recipients",
    "thread_ids",
]

_ID = re.compile(r"<([^<>\s]+)>")
# What the stdlib's header parsers raise on malformed input (a Date: in year
# 10**12 overflows, an empty encoded word indexes past its end); RecursionError
# for deeply nested comments and groups.
HEADER_ERRORS = (
    MessageError,  # HeaderParseError is not a ValueError
    ValueError,
    LookupError,
    TypeError,
    AttributeError,
    OverflowError,
    RecursionError,
)
# The stdlib's structured parsers are quadratic in a field's length (a 17 KB To:
# costs 0.2 s, 5x its parse as text) and build ~2 KB of objects a character of
# a hostile address list. A longer field is read as text: its readers take
# addresses, ids and MIME parameters from text anyway.
_STRUCTURED_CHARS = 1024
# Header objects keep a few defects each at most: a hostile field makes one per
# character, and nothing here reads more than whether there are any.
_KEPT_DEFECTS = 8
# Every field we read appears once or a few times in real mail (To, Cc, From
# once; Delivered-To and Authentication-Results once per hop). Reading past the
# first few would let a small mail buy seconds of parsing with repeats.
MAX_FIELDS_READ = 8


def decode_8bit(value: str) -> str:
    """``value`` with the raw bytes the email package kept as surrogate escapes decoded.

    SMTPUTF8 clients and many MTAs put raw UTF-8 in headers, old mailers raw
    windows-1252; the stdlib keeps such bytes as lone surrogates, which no
    database will store.
    """
    if value.isascii():
        return value
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that never was a byte: nothing to recover
        return value.encode("utf-8", "replace").decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


if TYPE_CHECKING:
    _EmailPolicy = EmailPolicy[EmailMessage]
else:
    _EmailPolicy = EmailPolicy  # not subscriptable at runtime


class _InboundPolicy(_EmailPolicy):
    # Told the name and size of every header field as the parser meets it, so
    # that the caller can stop a parse that has read too much (see limits.py).
    # Class attributes, so that clone(header_budget=..., header_cache=...) accepts them.
    header_budget: Callable[[str, int], None] | None = None
    # One parse per (name, value) for the life of one message: the stdlib parses
    # on every read, and reads Content-Type about nine times a part. Kept per
    # message so it goes with it; a global cache kept hostile parses alive.
    header_cache: dict[tuple[str, str], Any] | None = None

    def header_source_parse(self, sourcelines: list[str]) -> tuple[str, str]:
        name, value = super().header_source_parse(sourcelines)
        if self.header_budget is not None:
            self.header_budget(name, sum(len(line) for line in sourcelines))
        return name, value

    # Every header read (msg[...], get_all, get_param, get_filename, addresses)
    # passes through here, so decoding once here covers them all. The stored raw
    # value stays as it came, so an attached mail is re-serialized byte for byte.
    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if not isinstance(value, str):
            return super().header_fetch_parse(name, value)
        value = decode_8bit(value)
        cache = self.header_cache
        if cache is None:
            return _parse(name, value)
        key = (name.lower(), value)
        found = cache.get(key)
        if found is None:
            found = cache[key] = _slim(_parse(name, value))
        return found


def _parse(name: str, value: str) -> Any:
    if len(value) > _STRUCTURED_CHARS:
        return _unstructured(name, value)
    try:
        return _DEFAULT.header_fetch_parse(name, value)
    except HEADER_ERRORS:
        # A structured header the stdlib cannot parse: read it as text, so
        # every reader gets a value and no reader loses the mail to it.
        return _unstructured(name, value)


def _unstructured(name: str, value: str) -> Any:
    try:
        return _UNSTRUCTURED(name, value)
    except HEADER_ERRORS:  # even its encoded words are broken: the text as it came
        return value


def _slim(parsed: Any) -> Any:
    # A header object keeps its whole parse tree, only to refold itself; inbound
    # headers are never refolded (an attached mail is re-serialized from the raw
    # values), and the tree is most of the object's weight.
    attrs = getattr(parsed, "__dict__", None)
    if attrs is not None:
        attrs.pop("_parse_tree", None)
        defects = attrs.get("_defects")
        if defects is not None and len(defects) > _KEPT_DEFECTS:
            attrs["_defects"] = tuple(defects[:_KEPT_DEFECTS])
    return parsed


_DEFAULT = email.policy.default
_UNSTRUCTURED = type("UnparsableHeader", (UnstructuredHeader, BaseHeader), {})


INBOUND = _InboundPolicy()
"""policy.default, but raw 8-bit header bytes are read as text instead of surrogates."""


def header(msg: Message, name: str) -> str:
    values = header_all(msg, name)
    return values[0] if values else ""


def header_all(msg: Message, name: str) -> list[str]:
    # policy.default parses headers lazily and a few malformed ones raise rather
    # than record a defect; a bad optional header must not cost us the mail.
    found = []
    for raw in raw_fields(msg, name):
        try:
            found.append(str(msg.policy.header_fetch_parse(name, raw)).strip())
        except HEADER_ERRORS:
            found.append(decode_8bit(str(raw)).strip())
    return found


def raw_fields(msg: Message, name: str) -> list[Any]:
    """The first MAX_FIELDS_READ values of ``name``, unparsed, in order."""
    wanted = name.lower()
    found = []
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            found.append(value)
            if len(found) == MAX_FIELDS_READ:
                break
    return found


def message_ids(value: str) -> list[str]:
    found = _ID.findall(value)
    if not found:  # some clients drop the angle brackets
        found = [word for word in value.split() if "@" in word]
    return list(dict.fromkeys(found))


def thread_ids(msg: Message) -> tuple[str, ...]:
    # References runs oldest to newest and In-Reply-To names the parent, so this
    # order keeps ThreadHints' "newest last" even when a client sends only one.
    ids = message_ids(" ".join(header_all(msg, "References")))
    ids += message_ids(" ".join(header_all(msg, "In-Reply-To")))
    return tuple(dict.fromkeys(ids))


def recipients(msg: Message, rcpt_tos: Sequence[str]) -> list[str]:
    # The envelope first: it is what our MTA saw. Headers cover IMAP, where
    # Delivered-To / X-Original-To are the only trace of a plus address.
    found = [parseaddr(r)[1] for r in rcpt_tos]
    for name in ("Delivered-To", "X-Original-To", "To", "Cc"):
        found += [addr for _, addr in getaddresses(header_all(msg, name))]
    return [a for a in found if a]


def plus_token(addresses: Iterable[str], prefix: str, our_domains: Sequence[str]) -> str | None:
    domains = {d.lower() for d in our_domains}
    for address in addresses:
        local, _, domain = address.strip().strip("<>").rpartition("@")
        tag, plus, token = local.partition("+")
        if plus and token and tag.lower() == prefix and (not domains or domain.lower() in domains):
            return token  # signed tokens are case-sensitive: keep it as sent
    return None
