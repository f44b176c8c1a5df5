"""Large base64 attachments bypass the stdlib parser (channels/email/spill.py): the
result must be exactly the one the stdlib path gives, for files, for text parts
that look like base64, for attached mail, and for broken base64."""

from __future__ import annotations

import base64
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.channels.email.support import mail

from threadline.channels.email import spill
from threadline.channels.email.parse import parse_email
from threadline.core.model import ParseResult

BIG = 300 * 1024  # over SPILL_BYTES


def b64_lines(data: bytes, newline: bytes = b"\r\n") -> bytes:
    return base64.encodebytes(data).replace(b"\n", newline)


def multipart(*parts: tuple[str, bytes], newline: bytes = b"\r\n") -> bytes:
    """A multipart/mixed mail of (part headers, part body) pairs."""
    out = b""
    for headers, body in parts:
        out += b"--XyZ" + newline + headers.encode().replace(b"\n", newline) + newline * 2
        out += body + newline
    out += b"--XyZ--" + newline
    return mail(body=out, content_type='multipart/mixed; boundary="XyZ"', cte="7bit")


def both_ways(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[ParseResult, ParseResult]:
    spilled = parse_email(raw)
    with monkeypatch.context() as m:
        m.setattr(spill, "SPILL_BYTES", 10**12)  # the stdlib's own path
        plain = parse_email(raw)
    return spilled, plain


def test_a_large_attachment_spilled_reads_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    data = random.Random(1).randbytes(BIG)
    raw = multipart(
        ("Content-Type: text/plain; charset=utf-8", b"The scans, as promised."),
        (
            "Content-Type: application/pdf\nContent-Disposition: attachment; filename=a.pdf\n"
            "Content-Transfer-Encoding: base64",
            b64_lines(data),
        ),
    )
    assert spill.Spills(raw).runs  # this mail really takes the spill path
    spilled, plain = both_ways(raw, monkeypatch)
    assert spilled == plain
    assert [a.data for a in spilled.attachments] == [data]  # type: ignore[union-attr]
    assert spilled.text == "The scans, as promised."  # type: ignore[union-attr]


@pytest.mark.parametrize("newline", [b"\r\n", b"\n"])
def test_a_long_base64_text_part_gets_its_text_back(
    monkeypatch: pytest.MonkeyPatch, newline: bytes
) -> None:
    text = ("Dear support, my order 4417 never came. " * 9000).encode()
    raw = multipart(
        (
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64",
            b64_lines(text, newline),
        ),
        newline=newline,
    )
    assert spill.Spills(raw).runs
    spilled, plain = both_ways(raw, monkeypatch)
    assert spilled == plain
    assert spilled.full_text.startswith("Dear support, my order 4417")  # type: ignore[union-attr]


def test_an_attached_mail_keeps_its_large_attachment_inside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = random.Random(2).randbytes(BIG)
    inner = (
        b'Subject: fwd\r\nContent-Type: multipart/mixed; boundary="In"\r\n\r\n--In\r\n'
        b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b64_lines(data)
        + b"--In--\r\n"
    )
    raw = multipart(
        ("Content-Type: text/plain", b"see attached"), ("Content-Type: message/rfc822", inner)
    )
    spilled, plain = both_ways(raw, monkeypatch)
    assert spilled == plain
    [eml] = spilled.attachments  # type: ignore[union-attr]
    assert base64.b64encode(data)[:76] in eml.data  # the .eml holds the base64, not a token
    assert b"threadline-spill" not in eml.data


def test_broken_base64_decodes_as_the_stdlib_decodes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    body = b64_lines(random.Random(3).randbytes(BIG))[:-5] + b"\r\n"  # a cut last quartet
    raw = multipart(
        ("Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64", body)
    )
    spilled, plain = both_ways(raw, monkeypatch)
    assert spilled == plain


def test_a_token_written_by_the_sender_is_just_text(monkeypatch: pytest.MonkeyPatch) -> None:
    data = random.Random(4).randbytes(BIG)
    raw = multipart(
        ("Content-Type: text/plain", b"threadline-spill-0000000000000000-0"),
        ("Content-Type: application/zip\nContent-Transfer-Encoding: base64", b64_lines(data)),
    )
    spilled, plain = both_ways(raw, monkeypatch)
    assert spilled == plain
    assert spilled.text == "threadline-spill-0000000000000000-0"  # type: ignore[union-attr]


_LINE = st.binary(min_size=1, max_size=80).map(lambda b: base64.b64encode(b)[:76])


@settings(max_examples=40, deadline=None)
@given(
    kinds=st.lists(
        st.sampled_from(["application/pdf", "text/plain", "message/rfc822", "image/png"]),
        min_size=1,
        max_size=3,
    ),
    cte=st.sampled_from(["base64", "7bit"]),
    lines=st.lists(_LINE, min_size=64, max_size=200),
    newline=st.sampled_from([b"\r\n", b"\n"]),
    cut=st.integers(0, 3),
)
def test_spilled_and_stdlib_parses_agree(
    kinds: list[str], cte: str, lines: list[bytes], newline: bytes, cut: int
) -> None:
    body = newline.join(lines) + newline
    body = body[: len(body) - cut] if cut else body
    raw = multipart(
        *((f"Content-Type: {k}\nContent-Transfer-Encoding: {cte}", body) for k in kinds),
        newline=newline,
    )
    with pytest.MonkeyPatch.context() as m:
        m.setattr(spill, "SPILL_BYTES", 64)  # small runs spill too
        spilled = parse_email(raw)
        m.setattr(spill, "SPILL_BYTES", 10**12)
        plain = parse_email(raw)
    assert spilled == plain
