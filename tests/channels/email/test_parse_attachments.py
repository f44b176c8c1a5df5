"""parse_email's attachments: inline images, size limits, attached mail, unsafe
filenames and broken MIME structure."""

from __future__ import annotations

import email
import email.policy
import hashlib

from tests.channels.email.support import inbound, load, mail


def test_attachments_and_inline_images() -> None:
    msg = inbound(load("attachments"))
    assert [
        (a.filename, a.content_type, a.size, a.content_id, a.inline) for a in msg.attachments
    ] == [
        ("logo.png", "image/png", 70, "part1.Kx2Yq7Lm.logo@acme.example", True),
        ("Rechnung März 2025.pdf", "application/pdf", 193, None, False),
    ]
    pdf = msg.attachments[1].data
    assert hashlib.sha256(pdf).hexdigest() == (
        "794abaa4f6f06fc519895c22944a0ab43ad02b4fb32bdefa1952ce81613cb47b"
    )
    assert msg.html is not None
    assert 'src="cid:part1.Kx2Yq7Lm.logo@acme.example"' in msg.html
    assert msg.warnings == ()


def test_oversized_attachment_is_dropped_with_a_warning() -> None:
    msg = inbound(load("attachments"), max_attachment_bytes=100)
    assert [a.filename for a in msg.attachments] == ["logo.png"]
    assert msg.warnings == ("attachment Rechnung März 2025.pdf (193 bytes) exceeds the limit",)


def test_attached_mail_stays_one_eml_and_filenames_lose_their_path() -> None:
    boundary = "XyZ"
    body = (
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the two files.\r\n"
        f"--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n"
        "From: Courier <noreply@courier.example>\r\nSubject: Parcel delayed\r\n\r\nSorry.\r\n"
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        'Content-Disposition: attachment; filename="../../etc/notes.txt"\r\n\r\nnotes\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    msg = inbound(mail(body=body, content_type=f'multipart/mixed; boundary="{boundary}"'))
    assert msg.text == "See the two files."
    eml, notes = msg.attachments
    assert (eml.filename, eml.content_type, eml.inline) == (
        "attachment-2.eml",
        "message/rfc822",
        False,
    )
    inner = email.message_from_bytes(eml.data, policy=email.policy.default)
    assert inner["Subject"] == "Parcel delayed"
    assert (notes.filename, notes.data) == ("notes.txt", b"notes")


def test_broken_inner_boundary_keeps_the_readable_parts() -> None:
    # The stdlib's get_body raises AttributeError on a multipart/related whose
    # boundary never appears; the mail must still come through.
    body = (
        b"--A\r\nContent-Type: multipart/related; boundary=B\r\n\r\nno inner boundary here\r\n"
        b"--A\r\nContent-Type: text/plain\r\n\r\nThe part that survived.\r\n--A--\r\n"
    )
    msg = inbound(mail(body=body, content_type="multipart/mixed; boundary=A"))
    assert msg.text == "The part that survived."
    assert msg.warnings == ("part 1 has a broken MIME structure and was skipped",)
