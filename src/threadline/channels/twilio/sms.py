"""Twilio Programmable Messaging: inbound SMS/MMS and delivery status callbacks.

Both arrive as application/x-www-form-urlencoded posts, already checked
against X-Twilio-Signature by the webhook. The parsers only read the form: MMS
media stay at Twilio's URLs (fetching them is I/O, and needs the account's
credentials), listed in the message's meta for whoever shows or archives them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from threadline.channels.checks import clean_text
from threadline.core.identity import InvalidIdentity, normalize
from threadline.core.model import (
    Channel,
    DeliveryStatus,
    Ignored,
    InboundMessage,
    ParseResult,
    PayloadError,
    StatusUpdate,
)
from threadline.ports import Inbox

__all__ = ["ERROR_REASONS", "SmsParser", "StatusParser", "error_reason", "form_params"]

# What agents see when Twilio or the carrier refuses a message: the plain
# reason, so they know whether to fix the number, wait, or switch channel.
ERROR_REASONS: dict[str, str] = {
    "21211": "the number is not a valid phone number",
    "21408": "sending to this country is not enabled on the Twilio account",
    "21610": "the customer has unsubscribed from this number (replied STOP)",
    "21612": "Twilio cannot route messages from this number to that one",
    "21614": "the number is not a mobile number that can receive SMS",
    "30001": "Twilio's queue for this number overflowed; the message was dropped",
    "30002": "the Twilio account is suspended",
    "30003": "the customer's phone is unreachable (switched off or out of coverage)",
    "30004": "the message was blocked by the customer or their carrier",
    "30005": "the number is unknown to the carrier or no longer in service",
    "30006": "the number is a landline or its carrier cannot receive SMS",
    "30007": "the carrier filtered the message as spam",
    "30008": "the carrier reported an unknown delivery error",
    "30034": "the sending number is not registered for US A2P 10DLC messaging",
}

# Statuses on the way to the handset: no callback for "queued" is promised and
# the message is already "queued" or "sent" with us, so they change nothing.
_IN_FLIGHT = {"queued", "accepted", "sending", "scheduled", "receiving", "received"}
_FINAL = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}
_MAX_SID = 64  # Twilio's sids are 34 characters; the store's keys are bounded
_PLACEHOLDERS = {"image": "[image]", "video": "[video]", "audio": "[audio]"}


def form_params(body: bytes) -> list[tuple[str, str]]:
    """Every name/value pair in the form, blank values included (Twilio signs them)."""
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


def _form(body: bytes) -> dict[str, str]:
    # Cleaned here, not in form_params: the signature is over the raw values.
    return {name: clean_text(value) for name, value in form_params(body)}


def error_reason(code: str | None, message: str | None = None) -> str:
    code = (code or "").strip()
    plain = ERROR_REASONS.get(code) or (message or "").strip()
    if code and plain:
        return f"{plain} (Twilio error {code})"
    if code:
        return f"Twilio error {code}"
    return plain or "Twilio gave no reason"


def _media(form: Mapping[str, str]) -> list[dict[str, str]]:
    raw = (form.get("NumMedia") or "0").strip()
    if not (raw.isascii() and raw.isdigit()):
        raise PayloadError(f"NumMedia is not a number: {raw[:40]!r}")
    count = int(raw) if len(raw) <= 3 else 10  # Twilio sends at most 10
    media = []
    for i in range(min(count, 10)):  # Twilio delivers at most 10 media per MMS
        url = form.get(f"MediaUrl{i}")
        if url:
            content_type = form.get(f"MediaContentType{i}") or "application/octet-stream"
            media.append({"url": url, "content_type": content_type})
    return media


def _placeholder(content_type: str) -> str:
    return _PLACEHOLDERS.get(content_type.partition("/")[0], "[attachment]")


class SmsParser:
    """An inbound SMS or MMS (the webhook configured on the Twilio number)."""

    offload = False

    def __call__(self, inbox: Inbox, body: bytes, context: Mapping[str, Any]) -> ParseResult:
        form = _form(body)
        sid = form.get("MessageSid") or form.get("SmsSid")
        if not sid:
            raise PayloadError("no MessageSid in the Twilio message webhook")
        if len(sid) > _MAX_SID:
            raise PayloadError(f"MessageSid is longer than {_MAX_SID} characters")
        raw_from = form.get("From")
        if not raw_from:
            raise PayloadError(f"Twilio message {sid} has no From number")
        try:
            sender = normalize("phone", raw_from, default_region=inbox.config.get("default_region"))
        except InvalidIdentity as exc:
            raise PayloadError(f"Twilio message {sid}: {exc}") from exc
        media = _media(form)
        text = form.get("Body", "").strip()
        if not text and media:
            # An MMS with only a photo still needs a line agents can read.
            text = " ".join(_placeholder(m["content_type"]) for m in media)
        meta: dict[str, Any] = {"to": form.get("To", "")}
        if media:
            meta["media"] = media
        if form.get("NumSegments"):
            meta["num_segments"] = form["NumSegments"]
        if form.get("FromCountry"):
            meta["from_country"] = form["FromCountry"]
        return InboundMessage(
            channel=Channel.SMS,
            provider_message_id=sid,
            sender=sender,
            text=text,
            meta=meta,
        )


class StatusParser:
    """A MessageStatus callback for a message we sent (our StatusCallback URL)."""

    offload = False

    def __call__(self, inbox: Inbox, body: bytes, context: Mapping[str, Any]) -> ParseResult:
        form = _form(body)
        sid = form.get("MessageSid") or form.get("SmsSid")
        status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
        if not sid or not status:
            raise PayloadError("a Twilio status callback needs MessageSid and MessageStatus")
        if len(sid) > _MAX_SID or len(status) > _MAX_SID:
            raise PayloadError("MessageSid or MessageStatus is too long to be Twilio's")
        key = f"twilio-status:{sid}:{status}"
        mapped = _FINAL.get(status)
        if mapped is None:
            why = "is on its way" if status in _IN_FLIGHT else "is a status we do not track"
            return Ignored(f"Twilio status {status!r} {why}", key=key)
        error = None
        if mapped is DeliveryStatus.FAILED:
            if status == "canceled":
                error = "the message was canceled before Twilio sent it"
            else:
                error = error_reason(form.get("ErrorCode"), form.get("ErrorMessage"))
        return StatusUpdate(mapped, provider_message_ids=(sid,), error=error, key=key)
