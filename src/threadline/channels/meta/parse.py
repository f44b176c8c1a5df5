"""Meta webhooks (WhatsApp Cloud API, Messenger, Instagram) into our shapes.

One POST can batch many events: several entries, each with several changes
(WhatsApp) or messaging events (Messenger, Instagram), and each WhatsApp change
with several messages and statuses. Every event becomes its own result with its
own dedup key, so Meta's retry of a batch stores nothing twice.

Facts only: media ids are recorded, not downloaded; identities are reported
as Meta proves them; the core decides who the customer is.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from threadline.core.identity import InvalidIdentity, normalize
from threadline.core.model import (
    Channel,
    DeliveryStatus,
    IdentityRef,
    Ignored,
    InboundMessage,
    ParseResult,
    StatusUpdate,
    ThreadHints,
)
from threadline.ports import Inbox

__all__ = ["MetaParser", "addresses_of", "graph_error_text", "load_webhook"]

WHATSAPP = "whatsapp_business_account"
SOCIAL = {"page": Channel.MESSENGER, "instagram": Channel.INSTAGRAM}
_MEDIA = ("image", "audio", "video", "document", "sticker")
_WA_STATUS = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}


def load_webhook(body: bytes) -> dict[str, Any]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("entry"), list):
        raise ValueError("not a Meta webhook: no 'entry' list")
    return doc


def addresses_of(doc: Mapping[str, Any]) -> tuple[tuple[str, ...], list[str]]:
    """Which inboxes a webhook is for: the inbox channels and addresses (the WhatsApp
    phone number id, or the page / Instagram account id), first seen first."""
    found: list[str] = []
    obj = doc.get("object")
    for entry in _dicts(doc.get("entry"), "entry"):
        if obj == WHATSAPP:
            for change in _dicts(entry.get("changes", []), "changes"):
                value = change.get("value")
                metadata = value.get("metadata") if isinstance(value, dict) else None
                if isinstance(metadata, dict) and metadata.get("phone_number_id"):
                    found.append(str(metadata["phone_number_id"]))
        elif entry.get("id") is not None:
            found.append(str(entry["id"]))
    channel = SOCIAL.get(str(obj))
    channels = ("whatsapp",) if obj == WHATSAPP else (channel.value,) if channel else ()
    return channels, list(dict.fromkeys(found))


class MetaParser:
    offload = False  # a JSON decode and a walk: cheaper than the thread hop

    def __call__(self, inbox: Inbox, body: bytes, context: Mapping[str, Any]) -> list[ParseResult]:
        doc = load_webhook(body)
        obj = doc.get("object")
        if obj == WHATSAPP:
            return list(_whatsapp(inbox, doc))
        if obj in SOCIAL:
            return list(_social(inbox, doc, SOCIAL[str(obj)]))
        raise ValueError(f"not a WhatsApp, Messenger or Instagram webhook: object {obj!r}")


# -- helpers ------------------------------------------------------------------------
def _dicts(value: Any, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError(f"'{what}' must be a list of objects")
    return value


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _hash_key(prefix: str, item: Any) -> str:
    """A stable key for an event Meta does not name: the same event in a retried
    batch hashes the same."""
    digest = hashlib.sha256(orjson.dumps(item, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"{prefix}:{digest[:40]}"


def _time(value: Any) -> datetime | None:
    """Unix time as Meta sends it: seconds (WhatsApp, some Instagram events) or
    milliseconds (Messenger); no second-based time reaches 10**11 before the year 5000."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(number / 1000 if number > 10**11 else number, UTC)


def _mine(inbox: Inbox, address: str) -> bool:
    """A batch may mix several numbers or pages; each inbox takes only its own
    events (the webhook stores the same body once per inbox it names)."""
    return not address or not inbox.address or address == inbox.address


def graph_error_text(error: Mapping[str, Any], product: str = "WhatsApp") -> str:
    """Meta's own words for an error, most specific first, with its code."""
    details = _dict(error.get("error_data")).get("details")
    title = error.get("title") or error.get("message")
    text = str(details or error.get("message") or title or "no reason given")
    code = error.get("code")
    if code is None:
        return text
    label = f"{product} error {code}"
    if error.get("error_subcode"):
        label += f"/{error['error_subcode']}"
    if title and title != text:
        label += f": {title}"
    return f"{text} ({label})"


# -- WhatsApp -----------------------------------------------------------------------
def _whatsapp(inbox: Inbox, doc: Mapping[str, Any]) -> Iterator[ParseResult]:
    for entry in _dicts(doc["entry"], "entry"):
        for change in _dicts(entry.get("changes"), "changes"):
            value = _dict(change.get("value"))
            number = str(_dict(value.get("metadata")).get("phone_number_id") or "")
            if not _mine(inbox, number):
                continue
            field = change.get("field")
            if field != "messages":
                reason = f"WhatsApp '{field}' notifications are not handled"
                yield Ignored(reason, key=_hash_key("wa-field", change))
                continue
            contacts = _dicts(value.get("contacts"), "contacts")
            messages = _dicts(value.get("messages"), "messages")
            statuses = _dicts(value.get("statuses"), "statuses")
            for message in messages:
                yield _wa_message(message, contacts)
            for status in statuses:
                yield _wa_status(status)
            if not messages and not statuses:
                errors = _dicts(value.get("errors"), "errors")
                reason = "; ".join(graph_error_text(e) for e in errors) or "nothing to handle"
                yield Ignored(f"WhatsApp: {reason}", key=_hash_key("wa-change", change))


def _wa_contact(message: Mapping[str, Any], contacts: list[dict[str, Any]]) -> dict[str, Any]:
    sender = message.get("from")
    for contact in contacts:
        if sender and contact.get("wa_id") == sender:
            return contact
        if message.get("from_user_id") and contact.get("user_id") == message["from_user_id"]:
            return contact
    return contacts[0] if len(contacts) == 1 else {}


def _wa_message(message: Mapping[str, Any], contacts: list[dict[str, Any]]) -> InboundMessage:
    wamid = message.get("id")
    if not wamid:
        raise ValueError("a WhatsApp message without an id")
    contact = _wa_contact(message, contacts)
    wa_id = str(contact.get("wa_id") or message.get("from") or "")
    # Business-scoped user ids (2026): users with a username may come without
    # a phone number; the BSUID is kept beside the wa_id either way.
    user_id = str(contact.get("user_id") or message.get("from_user_id") or "")
    if not (wa_id or user_id):
        raise ValueError(f"WhatsApp message {wamid} names no sender")
    also: list[IdentityRef] = []
    if wa_id.isdigit():
        # A wa_id no numbering plan knows keeps the WhatsApp identity alone.
        with contextlib.suppress(InvalidIdentity):
            also.append(normalize("phone", "+" + wa_id))
    text, meta = _wa_content(message)
    if user_id:
        meta["user_id"] = user_id
    context = _dict(message.get("context"))
    if context.get("forwarded") or context.get("frequently_forwarded"):
        meta["forwarded"] = "true"
    referral = _dict(message.get("referral"))
    if referral:
        meta["referral"] = str(referral.get("headline") or referral.get("source_url") or "")
    quoted = context.get("id")
    return InboundMessage(
        channel=Channel.WHATSAPP,
        provider_message_id=str(wamid),
        sender=normalize("whatsapp", wa_id or user_id),
        also=tuple(also),
        sender_name=_dict(contact.get("profile")).get("name") or None,
        text=text,
        hints=ThreadHints(message_ids=(str(quoted),)) if quoted else ThreadHints(),
        sent_at=_time(message.get("timestamp")),
        meta=meta,
    )


def _wa_content(message: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """Readable text for any message type, and the ids an agent or a job needs."""
    kind = str(message.get("type") or "unknown")
    body = _dict(message.get(kind))
    meta = {"type": kind}
    if kind == "text":
        return str(body.get("body") or ""), meta
    if kind in _MEDIA:
        for name in ("id", "mime_type", "filename"):
            if body.get(name):
                meta["media_id" if name == "id" else name] = str(body[name])
        label = "voice message" if kind == "audio" and body.get("voice") else kind
        return f"[{label}] {body.get('caption') or body.get('filename') or ''}".strip(), meta
    if kind == "location":
        coords = f"{body.get('latitude')}, {body.get('longitude')}"
        meta.update(latitude=str(body.get("latitude")), longitude=str(body.get("longitude")))
        place = ", ".join(str(body[k]) for k in ("name", "address") if body.get(k))
        return (f"[location] {place} ({coords})" if place else f"[location] {coords}"), meta
    if kind == "contacts":
        cards = []
        for card in _dicts(message.get("contacts"), "contacts"):
            phones = ", ".join(str(p.get("phone")) for p in _dicts(card.get("phones"), "phones"))
            name = _dict(card.get("name")).get("formatted_name") or "contact"
            cards.append(f"{name} {phones}".strip())
        return "[contacts] " + "; ".join(cards), meta
    if kind == "interactive":
        for reply_type, label in (("button_reply", "button"), ("list_reply", "list")):
            reply = _dict(body.get(reply_type))
            if reply:
                meta["reply_id"] = str(reply.get("id") or "")
                return f"[{label}] {reply.get('title') or ''}".strip(), meta
        return "[interactive]", meta
    if kind == "button":
        meta["payload"] = str(body.get("payload") or "")
        return f"[button] {body.get('text') or ''}".strip(), meta
    if kind == "reaction":
        meta["reacted_to"] = str(body.get("message_id") or "")
        emoji = body.get("emoji")
        return (f"[reaction] {emoji}" if emoji else "[reaction removed]"), meta
    if kind == "order":
        items = _dicts(body.get("product_items"), "product_items")
        return f"[order] {len(items)} item(s) {body.get('text') or ''}".strip(), meta
    if kind == "system":
        return f"[system] {body.get('body') or ''}".strip(), meta
    errors = _dicts(message.get("errors"), "errors")
    details = "; ".join(graph_error_text(e) for e in errors)
    return f"[{kind}] {details}".strip(), meta


def _wa_status(status: Mapping[str, Any]) -> StatusUpdate | Ignored:
    wamid, state = status.get("id"), str(status.get("status") or "")
    if not wamid:
        raise ValueError("a WhatsApp status without a message id")
    key = f"wa-status:{wamid}:{state}"
    mapped = _WA_STATUS.get(state)
    if mapped is None:
        return Ignored(f"WhatsApp status '{state}' is not tracked", key=key)
    error = None
    if mapped is DeliveryStatus.FAILED:
        errors = _dicts(status.get("errors"), "errors")
        error = "; ".join(graph_error_text(e) for e in errors) or "WhatsApp gave no reason"
    return StatusUpdate(mapped, (str(wamid),), error=error, key=key)


# -- Messenger and Instagram --------------------------------------------------------
def _social(inbox: Inbox, doc: Mapping[str, Any], channel: Channel) -> Iterator[ParseResult]:
    for entry in _dicts(doc["entry"], "entry"):
        if not _mine(inbox, str(entry.get("id") or "")):
            continue
        for event in _dicts(entry.get("messaging"), "messaging"):
            yield from _social_event(event, channel)
        for other in ("standby", "changes"):
            for item in _dicts(entry.get(other), other):
                reason = f"{channel.value} '{other}' events are not handled"
                yield Ignored(reason, key=_hash_key(f"{channel.value}-{other}", item))


def _social_event(event: Mapping[str, Any], channel: Channel) -> Iterator[ParseResult]:
    kind = channel.value  # the identity kind: PSIDs for Messenger, IGSIDs for Instagram
    sender_id = str(_dict(event.get("sender")).get("id") or "")
    if "message" in event:
        yield _social_message(event, channel, sender_id)
    elif "delivery" in event or "read" in event:
        name = "delivery" if "delivery" in event else "read"
        status = DeliveryStatus.DELIVERED if name == "delivery" else DeliveryStatus.READ
        body = _dict(event.get(name))
        mids = [str(m) for m in body.get("mids") or () if m]
        if body.get("mid"):  # Instagram read receipts name the message
            mids.append(str(body["mid"]))
        for mid in mids:
            yield StatusUpdate(status, (mid,), key=f"{kind}-status:{mid}:{status.value}")
        if not mids:
            # Messenger reads say only "everything before this watermark".
            watermark = body.get("watermark")
            yield Ignored(
                f"{kind} {name} up to {watermark} names no message; not matched",
                key=f"{kind}-{name}:{sender_id}:{watermark}",
            )
    elif "postback" in event and _dict(event["postback"]).get("mid"):
        postback = _dict(event["postback"])
        yield InboundMessage(
            channel=channel,
            provider_message_id=str(postback["mid"]),
            sender=normalize(kind, sender_id),
            text=f"[postback] {postback.get('title') or ''}".strip(),
            sent_at=_time(event.get("timestamp")),
            meta={"type": "postback", "payload": str(postback.get("payload") or "")},
        )
    elif "reaction" in event:
        reaction = _dict(event["reaction"])
        yield Ignored(
            f"{kind} reactions are not handled",
            key=f"{kind}-reaction:{reaction.get('mid')}:{reaction.get('action')}:"
            f"{reaction.get('emoji') or reaction.get('reaction')}",
        )
    else:
        names = ", ".join(sorted(k for k in event if k not in ("sender", "recipient", "timestamp")))
        yield Ignored(f"{kind} event not handled: {names}", key=_hash_key(kind, event))


def _social_message(
    event: Mapping[str, Any], channel: Channel, sender_id: str
) -> InboundMessage | Ignored:
    message = _dict(event.get("message"))
    mid = message.get("mid")
    if not mid:
        raise ValueError(f"a {channel.value} message without a mid")
    if message.get("is_echo"):
        # Our own replies, and the page's replies from Meta Business Suite. Not done:
        # ingesting the latter as outbound messages (skip ours by app_id).
        return Ignored("an echo of a message the page sent", key=f"echo:{mid}")
    if message.get("is_deleted"):
        return Ignored("the customer deleted a message", key=f"deleted:{mid}")
    meta = {"type": "text"}
    parts = [str(message["text"])] if message.get("text") else []
    urls = []
    for attachment in _dicts(message.get("attachments"), "attachments"):
        label = str(attachment.get("type") or "attachment")
        payload = _dict(attachment.get("payload"))
        title = payload.get("title") or attachment.get("title")
        parts.append(f"[{label}] {title}" if title else f"[{label}]")
        if payload.get("url"):
            urls.append(str(payload["url"]))
        meta["type"] = label
    if urls:
        meta["attachment_urls"] = " ".join(urls)
    if message.get("quick_reply"):
        meta["quick_reply"] = str(_dict(message["quick_reply"]).get("payload") or "")
    if message.get("is_unsupported"):
        parts.append("[unsupported message]")
    quoted = _dict(message.get("reply_to")).get("mid")
    return InboundMessage(
        channel=channel,
        provider_message_id=str(mid),
        sender=normalize(channel.value, sender_id),
        text=" ".join(parts) or "[message]",
        hints=ThreadHints(message_ids=(str(quoted),)) if quoted else ThreadHints(),
        sent_at=_time(event.get("timestamp")),
        meta=meta,
    )
