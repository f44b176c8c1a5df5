"""What each channel can carry, and whether a reply may go out on it now.

Agents see these limits before they send (the composer shows the warnings);
``check_reply`` is also the last check when the reply is stored, so a reply the
provider would refuse never sits in the queue.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from threadline.core.model import Channel

__all__ = [
    "CAPABILITIES",
    "CHAT_FILES",
    "CHAT_FILE_BYTES",
    "MAX_ATTACHMENTS",
    "MAX_ATTACHMENTS_BYTES",
    "Capabilities",
    "ReplyCheck",
    "ReplyRefused",
    "SmsSegments",
    "check_attachment_bundle",
    "check_reply",
    "sms_segments",
]

# Any reply or note, whatever its channel: the most files, and their total size
# (the 25 MB most mail providers take, before base64).
MAX_ATTACHMENTS = 10
MAX_ATTACHMENTS_BYTES = 25 * 1024 * 1024

# The GSM 03.38 default alphabet; the extension table costs two septets each.
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


@dataclass(frozen=True, slots=True)
class SmsSegments:
    encoding: str  # GSM-7 | UCS-2
    units: int  # septets for GSM-7 (extended characters count 2), UTF-16 code units for UCS-2
    segments: int
    per_segment: int


def sms_segments(text: str) -> SmsSegments:
    """How many SMS a text costs: 160/153 GSM-7 characters, 70/67 in UCS-2."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2  # an emoji is two code units
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return SmsSegments(encoding, units, 1 if units else 0, single)
    return SmsSegments(encoding, units, math.ceil(units / multi), multi)


@dataclass(frozen=True, slots=True)
class Capabilities:
    max_text: int | None  # characters the provider accepts in one message
    reply_window: timedelta | None  # free-form replies only this long after the customer wrote
    attachment_types: tuple[str, ...] = ()  # MIME prefixes the provider accepts
    max_attachment_bytes: int | None = None
    max_sms_segments: int | None = None  # we cap long texts (Twilio takes 1,600 characters)
    max_attachments_total: int | None = None  # all files of one message together


# The files a chat carries, both ways: what the widget shows or offers to download.
# The same set for what a visitor uploads and what an agent sends them.
CHAT_FILES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", "text/plain"}
)
CHAT_FILE_BYTES = 10 * 1024 * 1024

CAPABILITIES: dict[Channel, Capabilities] = {
    Channel.EMAIL: Capabilities(None, None, ("",), 25 * 1024 * 1024),
    # Twilio MMS: up to 10 media of 5 MB together.
    Channel.SMS: Capabilities(
        1600, None, ("image/jpeg", "image/png", "image/gif"), 5 * 1024 * 1024, 10, 5 * 1024 * 1024
    ),
    Channel.VOICE: Capabilities(None, None),
    Channel.CHAT: Capabilities(10_000, None, tuple(sorted(CHAT_FILES)), CHAT_FILE_BYTES),
    Channel.WHATSAPP: Capabilities(
        4096,
        timedelta(hours=24),
        ("image/jpeg", "image/png", "audio/", "video/mp4", "application/pdf", "text/plain"),
        16 * 1024 * 1024,
    ),
    Channel.MESSENGER: Capabilities(
        2000, timedelta(hours=24), ("image/", "video/", "audio/", "application/"), 25 * 1024 * 1024
    ),
    Channel.INSTAGRAM: Capabilities(
        1000, timedelta(hours=24), ("image/png", "image/jpeg", "image/gif"), 8 * 1024 * 1024
    ),
    Channel.TELEGRAM: Capabilities(4096, None, ("",), 50 * 1024 * 1024),
    Channel.API: Capabilities(100_000, None, ("",), 25 * 1024 * 1024),
}


class ReplyRefused(ValueError):
    """The provider would refuse this reply; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class ReplyCheck:
    warnings: tuple[str, ...]
    sms: SmsSegments | None = None


def check_reply(
    channel: Channel,
    text: str,
    *,
    now: datetime,
    last_inbound_at: datetime | None,
    template: bool = False,
    attachments: Sequence[tuple[str, int]] = (),  # (content type, size)
) -> ReplyCheck:
    """Refuse what the provider would refuse; warn about what costs or surprises."""
    caps = CAPABILITIES[channel]
    warnings: list[str] = []
    window = caps.reply_window
    if (
        window is not None
        and not template
        and (last_inbound_at is None or now - last_inbound_at > window)
    ):
        hours = int(window.total_seconds() // 3600)
        raise ReplyRefused(
            f"{channel.value}: the customer has not written in the last {hours} hours, "
            "so only an approved template can be sent"
        )
    if caps.max_text is not None and len(text) > caps.max_text:
        raise ReplyRefused(
            f"{channel.value} accepts at most {caps.max_text:,} characters; "
            f"this reply has {len(text):,}"
        )
    segments = None
    if channel is Channel.SMS:
        segments = sms_segments(text)
        if caps.max_sms_segments is not None and segments.segments > caps.max_sms_segments:
            raise ReplyRefused(
                f"this SMS would be {segments.segments} segments; the limit is "
                f"{caps.max_sms_segments}. Shorten it or reply by email"
            )
        if segments.segments > 1:
            warnings.append(f"sent as {segments.segments} SMS segments ({segments.encoding})")
        if segments.encoding == "UCS-2" and segments.units <= 160 and segments.segments > 1:
            warnings.append("emoji or special characters halve the SMS length")
    check_attachment_bundle(attachments)
    for content_type, size in attachments:
        if not any(content_type.startswith(t) for t in caps.attachment_types):
            raise ReplyRefused(f"{channel.value} does not accept {content_type} attachments")
        if caps.max_attachment_bytes is not None and size > caps.max_attachment_bytes:
            raise ReplyRefused(
                f"{channel.value} accepts attachments up to {_mb(caps.max_attachment_bytes)}"
            )
    total = sum(size for _, size in attachments)
    if caps.max_attachments_total is not None and total > caps.max_attachments_total:
        raise ReplyRefused(
            f"{channel.value} accepts at most {_mb(caps.max_attachments_total)} of attachments "
            "in one message"
        )
    return ReplyCheck(tuple(warnings), segments)


def check_attachment_bundle(attachments: Sequence[tuple[str, int]]) -> None:
    """The limits of every message, notes included: how many files, how big together."""
    if len(attachments) > MAX_ATTACHMENTS:
        raise ReplyRefused(f"at most {MAX_ATTACHMENTS} attachments per message")
    if sum(size for _, size in attachments) > MAX_ATTACHMENTS_BYTES:
        raise ReplyRefused(f"attachments may add up to {_mb(MAX_ATTACHMENTS_BYTES)} per message")


def _mb(size: int) -> str:
    return f"{size // (1024 * 1024)} MB"
