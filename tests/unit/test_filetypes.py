"""What a file really is: the type we store and send is the one its bytes allow."""

from __future__ import annotations

import pytest

from threadline.core.filetypes import GENERIC, MAX_FILENAME, safe_filename, sniff_type

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"
PDF = b"%PDF-1.4\n"
ZIP = b"PK\x03\x04\x14\x00"
MP4 = b"\x00\x00\x00\x18ftypmp42"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize(
    ("data", "claimed", "filename", "expected"),
    [
        # the signature wins over the claim, and over the name
        (PNG, "image/png", "a.png", "image/png"),
        (PNG, "image/jpeg", "a.jpg", "image/png"),
        (JPEG, "", "photo", "image/jpeg"),
        (PDF, "application/octet-stream", "x.bin", "application/pdf"),
        (MP4, "video/quicktime", "clip.mov", "video/mp4"),
        # a claim of a signed family without the signature is a lie
        (b"<script>alert(1)</script>", "image/png", "x.png", GENERIC),
        (b"<svg onload=alert(1)>", "image/svg+xml", "x.svg", GENERIC),
        (b"not a pdf", "application/pdf", "x.pdf", GENERIC),
        # zip containers keep an office type, anything else is a zip
        (ZIP, DOCX, "report.docx", DOCX),
        (ZIP, "image/png", "x.png", "application/zip"),
        # text stays text only while it is text
        (b"line one\n", "text/plain", "notes.txt", "text/plain"),
        (b"a,b\n1,2\n", "text/csv; charset=utf-8", "t.csv", "text/csv"),
        (b"\x00\x01binary", "text/plain", "x.txt", GENERIC),
        # no usable claim: the name's type, else generic
        (b"a,b\n", "", "t.csv", "text/csv"),
        (b"whatever", "not a type", "noext", GENERIC),
        (b"{}", "Application/JSON", "x", "application/json"),
    ],
)
def test_sniff_type(data: bytes, claimed: str, filename: str, expected: str) -> None:
    assert sniff_type(data, claimed, filename) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("label.png", "label.png"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\invoice.pdf", "invoice.pdf"),
        ("evil\r\nX-Header: 1.txt", "evilX-Header: 1.txt"),
        ("  Rechnung  März.pdf ", "Rechnung März.pdf"),
        ("..", "file"),
        ("", "file"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_a_long_filename_keeps_its_extension() -> None:
    name = safe_filename("a" * 500 + ".pdf")
    assert len(name) == MAX_FILENAME
    assert name.endswith("a.pdf")
