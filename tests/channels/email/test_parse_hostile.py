"""parse_email on hostile input: each crasher the fuzzer found is a test here, and
every bound of limits.py quarantines with its reason. The rule is that a parse
returns a result or raises PayloadError, and nothing else."""

from __future__ import annotations

import gc
import tracemalloc

import pytest
from tests.channels.email.support import inbound, load, mail

from threadline.channels.email import body
from threadline.channels.email.body import html_to_text, latest_reply
from threadline.channels.email.headers import MAX_FIELDS_READ
from threadline.channels.email.limits import (
    MAX_DEPTH,
    MAX_HEADER_BYTES,
    MAX_HEADER_FIELD_BYTES,
    MAX_HEADERS,
    MAX_MIME_FIELD_BYTES,
    MAX_PARTS,
    EmailTooComplex,
)
from threadline.channels.email.parse import MalformedEmail, parse_email
from threadline.core.model import InboundMessage, PayloadError


@pytest.mark.parametrize(
    "date",
    [
        "Mon, 3 Nov 99999999999 12:02:07 +0100",  # OverflowError: year past C int
        "Mon, 3 Nov 2025 12:02:07 +99999999999999999999",  # OverflowError: zone offset
        "Mon, 3 Nov 2025 99:99:99 +0100",
    ],
)
def test_absurd_date_is_read_as_no_date_not_a_crash(date: str) -> None:
    msg = inbound(mail(f"Date: {date}", drop=("Date",)))
    assert msg.sent_at is None
    assert msg.text == "Hello, where is my order?"


@pytest.mark.parametrize(
    "field",
    [
        b"Content-Type: \\;ab.c*",  # IndexError in the parameter parser
        b"Content-Disposition: ;1*",  # IndexError too
    ],
)
def test_malformed_mime_parameters_are_read_not_a_crash(field: bytes) -> None:
    name = field.partition(b":")[0].decode()
    assert inbound(field + b"\r\n" + mail(drop=(name,))).text == "Hello, where is my order?"


def test_from_that_breaks_the_address_parser_is_malformed_not_a_crash() -> None:
    # normalize_email let the stdlib's HeaderParseError (not a ValueError) out.
    field = 'From: \udcff=*"@;:b.c'.encode("utf-8", "surrogateescape")
    with pytest.raises(MalformedEmail, match="no usable From"):
        parse_email(field + b"\r\n" + mail(drop=("From",)))


@pytest.mark.parametrize("marker", ['id="appendonsend"', 'class="gmail_quote"'])
def test_quote_marker_on_the_html_root_keeps_the_text(marker: str) -> None:
    # lexbor refused to decompose the root: SelectolaxError out of html_to_text.
    html = f"<html {marker}><body><p>Is my order shipped?</p></body></html>"
    assert html_to_text(html) == "Is my order shipped?"
    msg = inbound(mail(content_type="text/html; charset=utf-8", body=html.encode()))
    assert msg.text == "Is my order shipped?"


@pytest.mark.parametrize("charset", ["rot13", "base64", "zlib", "idna", "punycode", "undefined"])
def test_a_codec_that_is_no_charset_decodes_as_utf8(charset: str) -> None:
    # bytes.decode raised LookupError or UnicodeError for these labels.
    raw = mail(content_type=f"text/plain; charset={charset}", body="Grüße\r\n".encode())
    assert inbound(raw).text == "Grüße"


def test_an_attachment_with_a_codec_label_is_kept() -> None:
    raw = load("attachments").replace(b"charset=", b"charset=idna; x=", 1)
    assert isinstance(parse_email(raw), InboundMessage)


def _nested(depth: int) -> bytes:
    head = b"From: ana@example.com\r\nTo: support@support.example\r\nMIME-Version: 1.0\r\n"
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    closing = b"".join(b"--b%d--\r\n" % i for i in reversed(range(depth)))
    return head + opening + b"Content-Type: text/plain\r\n\r\nhi\r\n" + closing


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 5000])
def test_deep_mime_nesting_is_quarantined_with_its_reason(depth: int) -> None:
    # 1,000 levels raised RecursionError from the stdlib's recursive walks.
    with pytest.raises(EmailTooComplex, match=f"nested deeper than {MAX_DEPTH}"):
        parse_email(_nested(depth))


def test_nesting_within_the_bound_is_read() -> None:
    assert inbound(_nested(MAX_DEPTH - 1)).text == "hi"


def test_too_many_parts_are_quarantined_with_the_reason() -> None:
    part = b"--p\r\nContent-Type: text/plain\r\n\r\nx\r\n"
    raw = mail(content_type='multipart/mixed; boundary="p"', body=part * (MAX_PARTS + 1) + b"--p--")
    with pytest.raises(EmailTooComplex, match=f"more than {MAX_PARTS} MIME parts"):
        parse_email(raw)


def test_too_many_header_fields_are_quarantined_with_the_reason() -> None:
    raw = mail(*["Received: from relay"] * MAX_HEADERS)
    with pytest.raises(EmailTooComplex, match=f"more than {MAX_HEADERS} header fields"):
        parse_email(raw)


def test_a_huge_header_field_is_quarantined_before_it_is_parsed() -> None:
    # A 440 KB To: took 14 s in the stdlib's address parser.
    to = ", ".join(f"u{i} <u{i}@example.com>" for i in range(20_000))
    assert len(to) > MAX_HEADER_FIELD_BYTES
    with pytest.raises(EmailTooComplex, match="header field of"):
        parse_email(mail(f"To: {to}", drop=("To",)))


def test_every_bound_is_a_payload_error() -> None:
    # The bus quarantines PayloadError with its message: the reason an operator sees.
    assert issubclass(EmailTooComplex, PayloadError)
    with pytest.raises(PayloadError, match="From"):
        parse_email(load("no_from"))


def test_quote_stripping_looks_only_at_the_head_of_a_long_body() -> None:
    # A 10 MB body spent 7 s in mail-parser-reply's regexes; a quote that starts
    # past REPLY_SCAN_CHARS is not looked for, so the whole text is the reply.
    head = "Here is the log you asked for.\n" + "log line\n" * (body.REPLY_SCAN_CHARS // 9)
    quoted = "\nOn Mon, 3 Nov 2025 Sam wrote:\n> Could you send the log?\n"
    assert latest_reply(head + quoted) == ""
    assert latest_reply(head[:1000] + quoted) == head[:1000].strip()


def test_a_long_body_without_quotes_is_all_reply() -> None:
    text = "log line\n" * 20_000
    assert len(text) > body.REPLY_SCAN_CHARS
    msg = inbound(mail(body=text.encode()))
    assert msg.text == msg.full_text == text.strip()


def test_large_html_is_read_without_html2text() -> None:
    html = "<p>Hello <b>there</b></p>" * (body.HTML2TEXT_CHARS // 20)
    text = html_to_text(html)
    assert text.startswith("Hello there\nHello there\n")


def test_a_long_address_field_is_read_as_text_and_still_gives_its_addresses() -> None:
    # Over 4 KiB a field skips the stdlib's quadratic address parser.
    others = ", ".join(f"Person {i} <p{i}@example.com>" for i in range(300))
    raw = mail(f"Cc: {others}, reply+tok3n@support.example")
    msg = inbound(raw, our_domains=("support.example",))
    assert msg.hints.reply_token == "tok3n"
    assert msg.meta["cc"].startswith("Person 0 <p0@example.com>, ")


def test_an_oversized_mime_field_is_quarantined_with_the_reason() -> None:
    # Read ~9 times a part by stdlib code quadratic in its parameters.
    params = "; ".join(f"p{i}=v{i}" for i in range(MAX_MIME_FIELD_BYTES // 8))
    with pytest.raises(EmailTooComplex, match="Content-Type field of"):
        parse_email(mail(content_type=f"text/plain; {params}"))


def test_more_header_bytes_than_the_bound_are_quarantined() -> None:
    field = "X-Padding: " + "x" * 4000
    raw = mail(*[field] * (MAX_HEADER_BYTES // 4000 + 1))
    with pytest.raises(EmailTooComplex, match="bytes of headers"):
        parse_email(raw)


def test_parsed_headers_are_not_kept_after_the_parse() -> None:
    # A global cache of parsed headers kept ~2 MB of parse tree alive for each
    # hostile 1 KB To: it had seen, 4,096 of them: gigabytes over a stream of mail.
    mails = [mail(f"To: {'a,' * 500}{i}@example.com", drop=("To",)) for i in range(20)]
    parse_email(mails[0])
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for raw in mails[1:]:
            parse_email(raw)
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 2 * 1024 * 1024, kept


def test_only_the_first_few_fields_of_a_name_are_read() -> None:
    # Real mail has one To:; reading thousands of repeats cost seconds a mail.
    repeats = [f"To: person{i}@example.com" for i in range(MAX_FIELDS_READ)]
    raw = mail(*repeats, "To: reply+tok3n@support.example", drop=("To",))
    assert inbound(raw, our_domains=("support.example",)).hints.reply_token is None
    raw = mail(*repeats[1:], "To: reply+tok3n@support.example", drop=("To",))
    assert inbound(raw, our_domains=("support.example",)).hints.reply_token == "tok3n"
