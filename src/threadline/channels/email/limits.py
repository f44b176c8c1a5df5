"""Reading the raw bytes of one inbound email into a message tree, at a bounded cost.

The stdlib parser builds every part and every header it is given, and some of
its header parsing is quadratic in the length of a field, so a hostile mail
within the size cap could still cost gigabytes or minutes. Counting while the
parser builds the tree lets us stop at the first excess and quarantine the
mail with a reason, instead of paying for the whole tree first.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.feedparser import BytesFeedParser
from email.message import EmailMessage, Message
from typing import Any

from threadline.channels.email.body import children
from threadline.channels.email.headers import INBOUND
from threadline.channels.email.spill import Part, Spills
from threadline.core.model import PayloadError

__all__ = [
    "MAX_DEPTH",
    "MAX_HEADERS",
    "MAX_HEADER_BYTES",
    "MAX_HEADER_FIELD_BYTES",
    "MAX_MIME_FIELD_BYTES",
    "MAX_PARTS",
    "EmailTooComplex",
    "read_message",
]

# Real mail nests a few levels (mixed > alternative > related, a forwarded mail
# inside that); 32 leaves room for forwards of forwards while keeping the stdlib's
# recursive walks (get_body, as_bytes) far from Python's recursion limit.
MAX_DEPTH = 32
# A mail with hundreds of attachments is already unusual; beyond 1,000 parts the
# message objects alone cost more memory than the 36 MiB of mail they came from.
MAX_PARTS = 1000
# Heavily relayed mail carries about 100 header fields at the top (Received,
# DKIM and ARC chains) and a handful per part; 10,000 in all is far past that.
MAX_HEADERS = 10_000
# The stdlib parses a structured header in time quadratic in its length (a 440 KB
# To: takes 14 s). The longest real fields are a Cc: of several hundred people or
# the References of a long thread, about 25 KB. The total bounds the sum over
# every field we might read: hostile headers cost about 1 s a MB to read, real
# mail carries ~50 KB at the top and ~250 bytes a part (250 KB at MAX_PARTS).
MAX_HEADER_FIELD_BYTES = 32 * 1024
MAX_HEADER_BYTES = 512 * 1024
# Content-Type and Content-Disposition are read about nine times per part, by
# stdlib code quadratic in their parameters. Real ones are under 1 KB; a long
# RFC 2231 filename (255 characters, percent-encoded UTF-8) stays under 3 KB.
MAX_MIME_FIELD_BYTES = 8 * 1024


class EmailTooComplex(PayloadError):
    """The mail exceeds one of the bounds above; quarantine it with the reason."""


@dataclass(slots=True)
class _Budget:
    parts: int = 0
    headers: int = 0
    header_bytes: int = 0

    def part(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise EmailTooComplex(f"more than {MAX_PARTS} MIME parts")

    def header(self, name: str, size: int) -> None:
        self.headers += 1
        self.header_bytes += size
        if size > MAX_HEADER_FIELD_BYTES:
            raise EmailTooComplex(f"a header field of {size} bytes, over {MAX_HEADER_FIELD_BYTES}")
        if size > MAX_MIME_FIELD_BYTES and name.lower().startswith("content-"):
            raise EmailTooComplex(f"a {name} field of {size} bytes, over {MAX_MIME_FIELD_BYTES}")
        if self.headers > MAX_HEADERS:
            raise EmailTooComplex(f"more than {MAX_HEADERS} header fields")
        if self.header_bytes > MAX_HEADER_BYTES:
            raise EmailTooComplex(f"more than {MAX_HEADER_BYTES} bytes of headers")


def read_message(raw: bytes) -> EmailMessage:
    """The message tree of ``raw``, or EmailTooComplex past any bound above."""
    budget = _Budget()
    # Each parse gets its own policy object, shared by every part of the tree.
    policy = INBOUND.clone(header_budget=budget.header, header_cache={})  # type: ignore[call-arg]

    def new_part(policy: Any = policy) -> EmailMessage:
        budget.part()
        return Part(policy=policy)

    parser = BytesFeedParser(new_part, policy=policy)
    budget.parts = 0  # the parser calls the factory once to probe its signature
    spills = Spills(raw)  # large base64 attachments bypass the parser (spill.py)
    try:
        for chunk in spills.chunks():
            parser.feed(chunk)
        msg = parser.close()
    except RecursionError:
        raise EmailTooComplex(f"MIME parts nested deeper than {MAX_DEPTH}") from None
    if not isinstance(msg, EmailMessage):  # pragma: no cover - our factory made it
        raise PayloadError("the parser returned no message")
    _check_depth(msg)
    spills.settle(msg)
    return msg


def _check_depth(msg: Message) -> None:
    # Iterative: the point is to refuse a tree before anything recursive walks it.
    stack: list[tuple[Message, int]] = [(msg, 1)]
    while stack:
        part, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise EmailTooComplex(f"MIME parts nested deeper than {MAX_DEPTH}")
        if part.is_multipart():  # a leaf's get_payload() would decode its text
            stack.extend((p, depth + 1) for p in children(part))
