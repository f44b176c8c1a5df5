"""The frames a widget sends (docs/widget.md), decoded with their bounds.

A frame is a JSON object whose ``type`` names it. ``decode_frame`` returns one
of the structs below or raises ``FrameError``, and nothing else, whatever the
bytes: the socket answers the error with an ``error`` frame and stays open.
Unknown fields are ignored, so a newer widget still talks to this server.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

__all__ = [
    "MAX_ATTACHMENTS",
    "MAX_FRAME",
    "MAX_TEXT",
    "Csat",
    "Frame",
    "FrameError",
    "Hello",
    "IdentityClaim",
    "Ping",
    "Profile",
    "Read",
    "Send",
    "Transcript",
    "Typing",
    "decode_frame",
]

MAX_FRAME = 16 * 1024  # bytes of one frame
MAX_TEXT = 5000  # characters of one message
MAX_ATTACHMENTS = 5  # uploads named by one message
MAX_SEQ = 2**31 - 1  # what the seq column holds

# The widget's id for a message it sends: crypto.randomUUID() or 16+ random characters.
Cid = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
UploadId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Seq = Annotated[int, msgspec.Meta(ge=0, le=MAX_SEQ)]
_Token = Annotated[str, msgspec.Meta(max_length=100)]
_Name = Annotated[str, msgspec.Meta(max_length=200)]
_Email = Annotated[str, msgspec.Meta(max_length=320)]


class FrameError(ValueError):
    """A frame we cannot use: ``code`` is the error frame's code (docs/widget.md)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class IdentityClaim(msgspec.Struct):
    """What the business's page passes: checked against its HMAC before use."""

    user_id: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    email: _Email
    hash: Annotated[str, msgspec.Meta(max_length=128)]
    name: _Name | None = None


class Hello(msgspec.Struct, tag="hello", tag_field="type"):
    v: Literal[1]
    since: Seq = 0
    token: _Token | None = None
    identity: IdentityClaim | None = None
    # a redirect link's token (docs/redirects.md): the chat continues a social DM
    resume: _Token | None = msgspec.field(default=None, name="continue")


class Send(msgspec.Struct, tag="send", tag_field="type"):
    cid: Cid
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TEXT)]
    attachments: Annotated[list[UploadId], msgspec.Meta(max_length=MAX_ATTACHMENTS)] = []


class Typing(msgspec.Struct, tag="typing", tag_field="type"):
    on: bool


class Read(msgspec.Struct, tag="read", tag_field="type"):
    seq: Seq


class Profile(msgspec.Struct, tag="profile", tag_field="type"):
    name: _Name | None = None
    email: _Email | None = None


class Csat(msgspec.Struct, tag="csat", tag_field="type"):
    score: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class Transcript(msgspec.Struct, tag="transcript", tag_field="type"):
    email: _Email | None = None


class Ping(msgspec.Struct, tag="ping", tag_field="type"):
    pass


Frame = Hello | Send | Typing | Read | Profile | Csat | Transcript | Ping

_decoder = msgspec.json.Decoder(Frame)


def decode_frame(raw: str | bytes) -> Frame:
    """One frame from the wire. Raises FrameError (``too_large`` or ``bad_frame``)."""
    if isinstance(raw, str):
        if len(raw) > MAX_FRAME:  # a character is at least a byte: no need to encode
            raise FrameError("too_large", f"a frame is at most {MAX_FRAME} bytes")
        try:
            data = raw.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate from a broken client
            raise FrameError("bad_frame", "a frame is UTF-8 text") from exc
    else:
        data = bytes(raw)
    if len(data) > MAX_FRAME:
        raise FrameError("too_large", f"a frame is at most {MAX_FRAME} bytes")
    try:
        found: Frame = _decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise FrameError("bad_frame", f"invalid frame: {exc}") from exc
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise FrameError("bad_frame", "a frame is one JSON object") from exc
    except RecursionError as exc:
        # msgspec recurses to skip a deeply nested unknown value
        raise FrameError("bad_frame", "a frame is nested too deeply") from exc
    return found
