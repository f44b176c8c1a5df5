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
from datetime import datetime
from typing import Any

import orjson

from threadline.channels.checks import identity, load_json, scalar_text, unix_time
from threadline.core.identity import InvalidIdentity, normalize
from threadline.core.model import (
    Channel,
    DeliveryStatus,
    IdentityRef,
    Ignored,
    InboundMessage,
    ParseResult,
    PayloadError,
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


_MAX_ID = 200  # Meta's ids (wamid, mid, PSID) are far shorter; the store's keys are bounded


def load_webhook(body: bytes) -> dict[str, Any]:
    """The decoded batch. Values below are read through the typed helpers
    (_dicts, _dict, _text, _id, unix_time): JSON of any other shape than Meta's
    gives a PayloadError or a default, never a TypeError from deep inside."""
    doc = load_json(body)
    if not isinstance(doc, dict) or not isinstance(doc.get("entry"), list):
        raise PayloadError("not a Meta webhook: no 'entry' list")
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
                if isinstance(metadata, dict) and _text(metadata.get("phone_number_id")):
                    found.append(_text(metadata["phone_number_id"]))
        elif _text(entry.get("id")):
            found.append(_text(entry["id"]))
    channel = SOCIAL.get(obj) if isinstance(obj, str) else None
    channels = ("whatsapp",) if obj == WHATSAPP else (channel.value,) if channel else ()
    return channels, list(dict.fromkeys(found))


class MetaParser:
    offload = False  # a JSON decode and a walk: cheaper than the thread hop

    def __call__(self, inbox: Inbox, body: bytes, context: Mapping[str, Any]) -> list[ParseResult]:
        doc = load_webhook(body)
        obj = doc.get("object")
        if obj == WHATSAPP:
            return list(_whatsapp(inbox, doc))
        if isinstance(obj, str) and obj in SOCIAL:
            return list(_social(inbox, doc, SOCIAL[obj]))
        raise PayloadError(f"not a WhatsApp, Messenger or Instagram webhook: object {_text(obj)!r}")


# -- helpers ------------------------------------------------------------------------
def _dicts(value: Any, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise PayloadError(f"'{what}' must be a list of objects")
    return value


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return scalar_text(value)


def _id(value: Any, what: str) -> str:
    """An id Meta names an event or a person by: a non-empty, short scalar."""
    found = scalar_text(value).strip()
    if not found:
        raise PayloadError(f"{what} without an id")
    if len(found) > _MAX_ID:
        raise PayloadError(f"{what}: the id is longer than {_MAX_ID} characters")
    return found


def _who(kind: str, value: str) -> IdentityRef:
    return identity(kind, value)


def _hash_key(prefix: str, item: Any) -> str:
    """A stable key for an event Meta does not name: the same event in a retried
    batch hashes the same."""
    digest = hashlib.sha256(orjson.dumps(item, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return f"{prefix}:{digest[:40]}"


def _time(value: Any) -> datetime | None:
    """Unix time as Meta sends it: seconds (WhatsApp, some Instagram events) or
    milliseconds (Messenger); absurd values are dropped, not trusted."""
    return unix_time(value, or_millis=True)


def _mine(inbox: Inbox, address: str) -> bool:
    """A batch may mix several numbers or pages; each inbox takes only its own
    events (the webhook stores the same body once per inbox it names)."""
    return not address or not inbox.address or address == inbox.address


def graph_error_text(error: Mapping[str, Any], product: str = "WhatsApp") -> str:
    """Meta's own words for an error, most specific first, with its code."""
    details = _text(_dict(error.get("error_data")).get("details"))
    title = _text(error.get("title")) or _text(error.get("message"))
    text = details or _text(error.get("message")) or title or "no reason given"
    code = _text(error.get("code"))
    if not code:
        return text
    label = f"{product} error {code}"
    if _text(error.get("error_subcode")):
        label += f"/{_text(error['error_subcode'])}"
    if title and title != text:
        label += f": {title}"
    return f"{text} ({label})"


# -- WhatsApp -----------------------------------------------------------------------
def _whatsapp(inbox: Inbox, doc: Mapping[str, Any]) -> Iterator[ParseResult]:
    for entry in _dicts(doc["entry"], "entry"):
        for change in _dicts(entry.get("changes"), "changes"):
            value = _dict(change.get("value"))
            number = _text(_dict(value.get("metadata")).get("phone_number_id"))
            if not _mine(inbox, number):
                continue
            field = _text(change.get("field"))
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
    wamid = _id(message.get("id"), "a WhatsApp message")
    contact = _wa_contact(message, contacts)
    wa_id = _text(contact.get("wa_id")) or _text(message.get("from"))
    # Business-scoped user ids (2026): users with a username may come without
    # a phone number; the BSUID is kept beside the wa_id either way.
    user_id = _text(contact.get("user_id")) or _text(message.get("from_user_id"))
    if not (wa_id or user_id):
        raise PayloadError(f"WhatsApp message {wamid} names no sender")
    also: list[IdentityRef] = []
    if wa_id.isascii() and wa_id.isdigit():
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
        meta["referral"] = _text(referral.get("headline")) or _text(referral.get("source_url"))
    quoted = _text(context.get("id"))
    return InboundMessage(
        channel=Channel.WHATSAPP,
        provider_message_id=wamid,
        sender=_who("whatsapp", wa_id or user_id),
        also=tuple(also),
        sender_name=_text(_dict(contact.get("profile")).get("name"))[:200] or None,
        text=text,
        hints=ThreadHints(message_ids=(quoted,)) if quoted else ThreadHints(),
        sent_at=_time(message.get("timestamp")),
        meta=meta,
    )


def _wa_content(message: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """Readable text for any message type, and the ids an agent or a job needs."""
    kind = _text(message.get("type"))[:50] or "unknown"
    body = _dict(message.get(kind))
    meta = {"type": kind}
    if kind == "text":
        return _text(body.get("body")), meta
    if kind in _MEDIA:
        for name in ("id", "mime_type", "filename"):
            if _text(body.get(name)):
                meta["media_id" if name == "id" else name] = _text(body[name])
        label = "voice message" if kind == "audio" and body.get("voice") else kind
        caption = _text(body.get("caption")) or _text(body.get("filename"))
        return f"[{label}] {caption}".strip(), meta
    if kind == "location":
        latitude, longitude = _text(body.get("latitude")), _text(body.get("longitude"))
        coords = f"{latitude}, {longitude}"
        meta.update(latitude=latitude, longitude=longitude)
        place = ", ".join(_text(body[k]) for k in ("name", "address") if _text(body.get(k)))
        return (f"[location] {place} ({coords})" if place else f"[location] {coords}"), meta
    if kind == "contacts":
        cards = []
        for card in _dicts(message.get("contacts"), "contacts"):
            phones = ", ".join(_text(p.get("phone")) for p in _dicts(card.get("phones"), "phones"))
            name = _text(_dict(card.get("name")).get("formatted_name")) or "contact"
            cards.append(f"{name} {phones}".strip())
        return "[contacts] " + "; ".join(cards), meta
    if kind == "interactive":
        for reply_type, label in (("button_reply", "button"), ("list_reply", "list")):
            reply = _dict(body.get(reply_type))
            if reply:
                meta["reply_id"] = _text(reply.get("id"))
                return f"[{label}] {_text(reply.get('title'))}".strip(), meta
        return "[interactive]", meta
    if kind == "button":
        meta["payload"] = _text(body.get("payload"))
        return f"[button] {_text(body.get('text'))}".strip(), meta
    if kind == "reaction":
        meta["reacted_to"] = _text(body.get("message_id"))
        emoji = _text(body.get("emoji"))
        return (f"[reaction] {emoji}" if emoji else "[reaction removed]"), meta
    if kind == "order":
        items = _dicts(body.get("product_items"), "product_items")
        return f"[order] {len(items)} item(s) {_text(body.get('text'))}".strip(), meta
    if kind == "system":
        return f"[system] {_text(body.get('body'))}".strip(), meta
    errors = _dicts(message.get("errors"), "errors")
    details = "; ".join(graph_error_text(e) for e in errors)
    return f"[{kind}] {details}".strip(), meta


def _wa_status(status: Mapping[str, Any]) -> StatusUpdate | Ignored:
    wamid = _id(status.get("id"), "a WhatsApp status")
    state = _text(status.get("status"))[:50]
    key = f"wa-status:{wamid}:{state}"
    mapped = _WA_STATUS.get(state)
    if mapped is None:
        return Ignored(f"WhatsApp status '{state}' is not tracked", key=key)
    error = None
    if mapped is DeliveryStatus.FAILED:
        errors = _dicts(status.get("errors"), "errors")
        error = "; ".join(graph_error_text(e) for e in errors) or "WhatsApp gave no reason"
    return StatusUpdate(mapped, (wamid,), error=error, key=key)


# -- Messenger and Instagram --------------------------------------------------------
def _social(inbox: Inbox, doc: Mapping[str, Any], channel: Channel) -> Iterator[ParseResult]:
    for entry in _dicts(doc["entry"], "entry"):
        if not _mine(inbox, _text(entry.get("id"))):
            continue
        for event in _dicts(entry.get("messaging"), "messaging"):
            yield from _social_event(event, channel)
        for other in ("standby", "changes"):
            for item in _dicts(entry.get(other), other):
                reason = f"{channel.value} '{other}' events are not handled"
                yield Ignored(reason, key=_hash_key(f"{channel.value}-{other}", item))


def _social_event(event: Mapping[str, Any], channel: Channel) -> Iterator[ParseResult]:
    kind = channel.value  # the identity kind: PSIDs for Messenger, IGSIDs for Instagram
    sender_id = _text(_dict(event.get("sender")).get("id"))
    if "message" in event:
        yield _social_message(event, channel, sender_id)
    elif "delivery" in event or "read" in event:
        name = "delivery" if "delivery" in event else "read"
        status = DeliveryStatus.DELIVERED if name == "delivery" else DeliveryStatus.READ
        body = _dict(event.get(name))
        listed = body.get("mids")
        mids = [_id(m, f"a {kind} {name}") for m in listed if m] if isinstance(listed, list) else []
        if body.get("mid"):  # Instagram read receipts name the message
            mids.append(_id(body["mid"], f"a {kind} {name}"))
        for mid in mids:
            yield StatusUpdate(status, (mid,), key=f"{kind}-status:{mid}:{status.value}")
        if not mids:
            # Messenger reads say only "everything before this watermark".
            watermark = _text(body.get("watermark"))[:40]
            yield Ignored(
                f"{kind} {name} up to {watermark} names no message; not matched",
                key=f"{kind}-{name}:{sender_id}:{watermark}",
            )
    elif "postback" in event and _dict(event["postback"]).get("mid"):
        postback = _dict(event["postback"])
        yield InboundMessage(
            channel=channel,
            provider_message_id=_id(postback["mid"], f"a {kind} postback"),
            sender=_who(kind, sender_id),
            text=f"[postback] {_text(postback.get('title'))}".strip(),
            sent_at=_time(event.get("timestamp")),
            meta={"type": "postback", "payload": _text(postback.get("payload"))},
        )
    elif "reaction" in event:
        reaction = _dict(event["reaction"])
        yield Ignored(
            f"{kind} reactions are not handled",
            key=f"{kind}-reaction:{_text(reaction.get('mid'))[:_MAX_ID]}:"
            f"{_text(reaction.get('action'))[:20]}:"
            f"{(_text(reaction.get('emoji')) or _text(reaction.get('reaction')))[:20]}",
        )
    else:
        names = ", ".join(sorted(k for k in event if k not in ("sender", "recipient", "timestamp")))
        names = _text(names)[:200]
        yield Ignored(f"{kind} event not handled: {names}", key=_hash_key(kind, event))


def _social_message(
    event: Mapping[str, Any], channel: Channel, sender_id: str
) -> InboundMessage | Ignored:
    message = _dict(event.get("message"))
    mid = _id(message.get("mid"), f"a {channel.value} message")
    if message.get("is_echo"):
        # Our own replies, and the page's replies from Meta Business Suite. Not done:
        # ingesting the latter as outbound messages (skip ours by app_id).
        return Ignored("an echo of a message the page sent", key=f"echo:{mid}")
    if message.get("is_deleted"):
        return Ignored("the customer deleted a message", key=f"deleted:{mid}")
    meta = {"type": "text"}
    parts = [_text(message["text"])] if _text(message.get("text")) else []
    urls = []
    for attachment in _dicts(message.get("attachments"), "attachments"):
        label = _text(attachment.get("type"))[:50] or "attachment"
        payload = _dict(attachment.get("payload"))
        title = _text(payload.get("title")) or _text(attachment.get("title"))
        parts.append(f"[{label}] {title}" if title else f"[{label}]")
        if _text(payload.get("url")):
            urls.append(_text(payload["url"]))
        meta["type"] = label
    if urls:
        meta["attachment_urls"] = " ".join(urls)
    if message.get("quick_reply"):
        meta["quick_reply"] = _text(_dict(message["quick_reply"]).get("payload"))
    if message.get("is_unsupported"):
        parts.append("[unsupported message]")
    quoted = _text(_dict(message.get("reply_to")).get("mid"))
    return InboundMessage(
        channel=channel,
        provider_message_id=mid,
        sender=_who(channel.value, sender_id),
        text=" ".join(parts) or "[message]",
        hints=ThreadHints(message_ids=(quoted,)) if quoted else ThreadHints(),
        sent_at=_time(event.get("timestamp")),
        meta=meta,
    )
