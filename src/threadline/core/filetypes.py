"""What a file really is: its type from its first bytes, and a filename safe to hand on.

A browser's or an API caller's content type is a claim. We keep it only when
the bytes agree, or when nothing in the bytes could contradict it: a file that
calls itself an image but is not one becomes application/octet-stream, which
no channel that only takes images will accept.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata

__all__ = ["GENERIC", "LINKABLE", "safe_filename", "sniff_type"]

GENERIC = "application/octet-stream"

# Types we serve under their own name from /media/ links (Twilio, Meta and API
# receivers fetch them there). Anything else is served as GENERIC. None of these
# is run by a browser, and every answer is a download anyway.
LINKABLE = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "audio/mpeg",
        "audio/ogg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "video/mp4",
        "video/3gpp",
    }
)

# Families whose files always start with a signature we know: a claim of one
# of these that the bytes do not bear out is a lie (or a broken file).
_NEEDS_SIGNATURE = ("image/", "audio/", "video/", "application/pdf")
_ZIP_FAMILY = (
    "application/zip",
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
    "application/epub+zip",
)
_OLE_FAMILY = ("application/msword", "application/vnd.ms-")
_NAME = r"[a-z0-9][a-z0-9!#$&^_.+-]{0,62}"  # RFC 6838 §4.2
_MIME = re.compile(rf"{_NAME}/{_NAME}")
MAX_FILENAME = 200


def _signature(data: bytes) -> str | None:
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":
        brand = head[8:11]
        if brand == b"3gp":
            return "video/3gpp"
        return "audio/mp4" if brand == b"M4A" else "video/mp4"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"
    return None


def _claimed(claimed: str, filename: str) -> str:
    value = claimed.split(";", 1)[0].strip().lower()
    if _MIME.fullmatch(value):
        return value
    guessed, _ = mimetypes.guess_type(filename, strict=True)
    return guessed if guessed else GENERIC


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def sniff_type(data: bytes, claimed: str, filename: str) -> str:
    """The content type to store and send: the signature's, else a claim the bytes allow."""
    said = _claimed(claimed, filename)
    found = _signature(data)
    if found == "application/zip":
        return said if said.startswith(_ZIP_FAMILY) else found
    if found == "application/x-ole-storage":
        return said if said.startswith(_OLE_FAMILY) else GENERIC
    if found is not None:
        return found
    if said.startswith(_NEEDS_SIGNATURE):
        return GENERIC
    if said.startswith("text/"):
        return said if _is_text(data) else GENERIC
    return said


def safe_filename(name: str) -> str:
    """The last path segment, without control characters, at most MAX_FILENAME long."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split()).strip(". ")
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:20] if dot else ""
        name = f"{(stem if dot else name)[: MAX_FILENAME - len(ext) - 1]}{'.' + ext if ext else ''}"
    return name or "file"
