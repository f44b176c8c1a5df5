"""Fuzzing the email parser from the recorded .eml fixtures: whatever the bytes,
parse_email returns a result or raises PayloadError, and over the signed webhook
a fuzzed mail is stored or quarantined (a receipt exists), never answered 5xx.

Each example starts from a real mail and applies a few mutations aimed at what
broke before: absurd dates, broken encoded words, huge or many headers, deep
nesting and many parts, broken boundaries, odd charsets and transfer
encodings, hostile HTML, and raw byte damage.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.factories import make_email_inbox

from threadline.channels.email.parse import parse_email
from threadline.channels.email.signature import sign
from threadline.core.model import PayloadError
from threadline.storage.tables import inbound_receipts

FIXTURES = Path(__file__).parents[1] / "channels" / "email" / "fixtures"
SEEDS = {p.stem: p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))}

HEADER_NAMES = [
    "Date",
    "From",
    "To",
    "Cc",
    "Subject",
    "Message-ID",
    "References",
    "In-Reply-To",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "Content-ID",
    "Auto-Submitted",
    "Return-Path",
    "Reply-To",
    "Authentication-Results",
    "Delivered-To",
    "Precedence",
    "X-Auto-Response-Suppress",
    "MIME-Version",
]
CHARSETS = [
    "utf-8",
    "iso-8859-1",
    "windows-1252",
    "utf-16",
    "utf-7",
    "idna",
    "rot13",
    "base64",
    "hex",
    "zlib",
    "punycode",
    "x-unknown",
    "",
    '"',
    "utf-8'en'",
    "\udcff",
]
CTES = ["base64", "quoted-printable", "8bit", "7bit", "binary", "x-uuencode", "uuencode", "bogus"]

absurd_dates = st.builds(
    "{}, {} {} {} {}:{}:{} {}".format,
    st.sampled_from(["Mon", "Xyz", ""]),
    st.integers(-(10**6), 10**20),
    st.sampled_from(["Nov", "Foo", ""]),
    st.integers(-(10**20), 10**20),
    st.integers(-99, 10**6),
    st.integers(-99, 10**6),
    st.integers(-99, 10**20),
    st.sampled_from(["+0100", "-9999", "+99999999999999999999", "GMT", "XYZ", "", "-0000"]),
)
encoded_words = st.builds(
    "=?{}?{}?{}?=".format,
    st.sampled_from(CHARSETS),
    st.sampled_from(["q", "b", "Q", "B", "x", ""]),
    st.text(alphabet="=?_ABCabc+/0123456789\xe9 ", max_size=24),
)
addresses = st.builds(
    "{} <{}@{}>{}".format,
    st.text(max_size=12),
    st.text(alphabet='ab."\\ @<>()[],;:', max_size=10),
    st.text(alphabet="ab.[]:", max_size=10),
    st.sampled_from(["", ",", ", x:;", " (comment (nested", "<>", ":;"]),
)
params = st.builds(
    "{}/{}; {}={}{}".format,
    st.sampled_from(["multipart", "text", "message", "application", ""]),
    st.sampled_from(["mixed", "alternative", "report", "rfc822", "plain", "html", ""]),
    st.sampled_from(["boundary", "charset", "name", "filename*", "report-type", "format"]),
    st.text(alphabet="ab\"'*%=-; \xe9", max_size=12),
    st.sampled_from(["", "; charset*=utf-8''%ff", "; name*0*=x; name*1=y", ";;"]),
)
header_values = st.one_of(
    absurd_dates,
    encoded_words,
    addresses,
    params,
    st.sampled_from(["<>", "", " ", "=?", "=??=", "(", '"', "<", "\\"]),
    st.text(max_size=80),
    st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
    st.integers(1, 40_000).map(lambda n: "a," * n),
)


def _header_line(name: str, value: str) -> bytes:
    return f"{name}: {value}".encode("utf-8", "surrogateescape") + b"\r\n"


def _mutate(raw: bytes, data: st.DataObject) -> bytes:
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        kind = data.draw(
            st.sampled_from(
                [
                    "header",
                    "many_headers",
                    "nest",
                    "parts",
                    "boundary",
                    "charset",
                    "cte",
                    "bytes",
                    "html",
                ]
            ),
            label="kind",
        )
        raw = MUTATIONS[kind](raw, data)
    return raw


def _header(raw: bytes, data: st.DataObject) -> bytes:
    name = data.draw(st.sampled_from(HEADER_NAMES), label="name")
    line = _header_line(name, data.draw(header_values, label="value"))
    if data.draw(st.booleans(), label="replace"):
        # Replace the first such field wherever it is (a part's, too).
        pattern = re.compile(rb"^" + name.encode() + rb":[^\r\n]*\r?\n", re.I | re.M)
        return pattern.sub(lambda _: line, raw, count=1)
    return line + raw


def _many_headers(raw: bytes, data: st.DataObject) -> bytes:
    name = data.draw(st.sampled_from([*HEADER_NAMES, "Received", "X-Spam"]), label="name")
    count = data.draw(st.sampled_from([50, 500, 11_000]), label="count")
    return _header_line(name, "x") * count + raw


def _nest(raw: bytes, data: st.DataObject) -> bytes:
    depth = data.draw(st.sampled_from([2, 10, 33, 200, 2000]), label="depth")
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i)
        for i in range(depth)
    )
    closing = b"".join(b"\r\n--n%d--\r\n" % i for i in reversed(range(depth)))
    return head + b"\r\nX-Nested: yes\r\n" + opening + b"\r\n" + body + closing


def _parts(raw: bytes, data: st.DataObject) -> bytes:
    count = data.draw(st.sampled_from([1, 30, 1200]), label="parts")
    part = b"--p\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\nx\r\n"
    head, _, body = raw.partition(b"\r\n\r\n")
    return (
        head
        + b'\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n--p\r\n\r\n'
        + body[:2000]
        + b"\r\n"
        + part * count
        + b"--p--\r\n"
    )


def _boundary(raw: bytes, data: st.DataObject) -> bytes:
    new = data.draw(st.sampled_from([b"", b'""', b"--", b"x" * 300, b"\xff", b"a b"]))
    return re.sub(rb'boundary="?[^";\r\n]*"?', b"boundary=" + new, raw, count=1, flags=re.I)


def _charset(raw: bytes, data: st.DataObject) -> bytes:
    new = data.draw(st.sampled_from(CHARSETS), label="charset").encode("utf-8", "surrogateescape")
    found = re.sub(rb'charset="?[^";\r\n]*"?', b"charset=" + new, raw, flags=re.I)
    if found == raw:
        return (
            _header_line(
                "Content-Type", f"text/plain; charset={new.decode('utf-8', 'surrogateescape')}"
            )
            + raw
        )
    return found


def _cte(raw: bytes, data: st.DataObject) -> bytes:
    new = data.draw(st.sampled_from(CTES), label="cte").encode()
    pattern = rb"Content-Transfer-Encoding:[^\r\n]*"
    return re.sub(pattern, b"Content-Transfer-Encoding: " + new, raw, flags=re.I)


def _bytes(raw: bytes, data: st.DataObject) -> bytes:
    buf = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 8), label="edits")):
        at = data.draw(st.integers(0, len(buf)), label="at")
        action = data.draw(st.sampled_from(["insert", "delete", "flip"]), label="action")
        if action == "insert":
            buf[at:at] = data.draw(st.binary(min_size=1, max_size=16), label="inserted")
        elif action == "delete":
            del buf[at : at + data.draw(st.integers(1, 64), label="deleted")]
        elif at < len(buf):
            buf[at] ^= data.draw(st.integers(1, 255), label="xor")
    return bytes(buf)


HTML_TAGS = ["div", "p", "td", "table", "tr", "ol", "li", "a", "blockquote", "html", "body", "br"]
HTML_ATTRS = [
    'class="gmail_quote"',
    'id="appendonsend"',
    'id="divRplyFwdMsg"',
    'type="cite"',
    'start="x"',
    'start="99999999999999999999"',
    "href",
    'style="margin-left:1e9px"',
    "",
]
html_snippets = st.lists(
    st.one_of(
        st.builds("<{} {}>".format, st.sampled_from(HTML_TAGS), st.sampled_from(HTML_ATTRS)),
        st.builds("</{}>".format, st.sampled_from(HTML_TAGS)),
        st.sampled_from(["&#99999999;", "&#0;", "&amp", "x", "<!--", "<![CDATA[", "\x00"]),
        st.integers(1, 5000).map(lambda n: "<div>" * n),
    ),
    max_size=12,
).map("".join)


def _html(raw: bytes, data: st.DataObject) -> bytes:
    # Into the HTML body where there is one (most fixtures carry one), else as a
    # new text/html body.
    snippet = data.draw(html_snippets, label="html").encode()
    for marker in (b"<body", b"<html", b"<div", b"<p"):
        at = raw.lower().find(marker)
        if at >= 0:
            return raw[:at] + snippet + raw[at:]
    head, _, _ = raw.partition(b"\r\n\r\n")
    return _header_line("Content-Type", "text/html") + head + b"\r\n\r\n" + snippet


MUTATIONS: dict[str, Any] = {
    "html": _html,
    "header": _header,
    "many_headers": _many_headers,
    "nest": _nest,
    "parts": _parts,
    "boundary": _boundary,
    "charset": _charset,
    "cte": _cte,
    "bytes": _bytes,
}
fuzzed_mail = st.builds(
    lambda seed, data: _mutate(SEEDS[seed], data), st.sampled_from(sorted(SEEDS)), st.data()
)


# A parse takes a few ms: four times the profile's budget (about 3 s in CI).
@settings(max_examples=settings.default.max_examples * 4)
@given(raw=fuzzed_mail, null_sender=st.booleans())
def test_fuzzed_mail_parses_or_raises_payload_error(raw: bytes, null_sender: bool) -> None:
    refused: PayloadError | None = None
    try:
        parse_email(
            raw,
            rcpt_tos=["support@support.example"],
            mail_from="" if null_sender else None,
            our_domains=("support.example",),
        )
    except PayloadError as exc:
        refused = exc
    # parse.py wraps an error it did not foresee (keeping it as the cause) so
    # that ingest goes on; here such a path is a bug to fix, not a quarantine.
    cause = refused.__cause__ if refused is not None else None
    assert cause is None, f"an unforeseen path in the parser: {cause!r}"


@pytest.mark.anyio
# Each example is a signed POST to a real uvicorn and a write on each database.
@settings(
    max_examples=max(12, settings.default.max_examples // 12),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=fuzzed_mail)
async def test_fuzzed_mail_over_the_webhook_is_kept_never_5xx(
    container: Any, served: str, raw: bytes
) -> None:
    # The container lives across examples: one inbox serves them all.
    known = [i.id for i in await container.bus.all_inboxes() if i.channel == "email"]
    inbox = known[0] if known else await make_email_inbox(container, webhook_secret="fuzz-secret")
    async with httpx.AsyncClient(base_url=served, timeout=60) as client:
        answer = await client.post(
            f"/webhooks/email/{inbox}",
            content=raw,
            headers={"X-Threadline-Signature": sign("fuzz-secret", raw)},
        )
    assert answer.status_code == 200, answer.text
    receipt = answer.json()["receipt_id"]
    found = await container.db.read(
        lambda c: c.execute(
            sa.select(inbound_receipts.c.status).where(inbound_receipts.c.id == receipt)
        ).scalar_one_or_none()
    )
    assert found is not None
