"""Telegram inbound: one Bot API Update per webhook POST.

The receipt key is ``update:<update_id>``: Telegram numbers updates so a bot
can ignore repeats, and it repeats any update we did not answer with 2xx.
Only private chats with the bot become messages; a help desk answers people,
not groups or channels. Files stay on Telegram's servers: the parser records
their file ids, and nothing here downloads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from threadline.core.identity import InvalidIdentity, normalize
from threadline.core.model import Channel, Ignored, InboundMessage, ParseResult
from threadline.ports import Inbox

__all__ = ["TelegramParser", "parse_update"]

# Content a customer can send without text, and how the timeline shows it.
# The value names the marker; the file id goes to meta as "<kind>_file_id".
_MEDIA: dict[str, str] = {
    "photo": "[photo]",
    "video": "[video]",
    "voice": "[voice message]",
    "audio": "[audio]",
    "video_note": "[video message]",
    "animation": "[animation]",
    "sticker": "[sticker]",
}


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    return value


def _integer(value: Any, what: str) -> int:
    # bool is an int in Python, never in the Bot API
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{what} is missing or not an integer")
    return value


def _name(user: Mapping[str, Any]) -> str | None:
    parts = [str(user.get(k) or "").strip() for k in ("first_name", "last_name")]
    return " ".join(p for p in parts if p) or None


def _content(message: Mapping[str, Any], meta: dict[str, str]) -> str | None:
    """The text an agent reads: the text itself, or a marker and the caption."""
    text = message.get("text")
    if isinstance(text, str) and text.strip():
        return text
    caption = str(message.get("caption") or "").strip()
    marker: str | None = None
    document = message.get("document")
    if isinstance(document, dict):
        name = str(document.get("file_name") or "unnamed")
        marker = f"[document: {name}]"
        meta["document_file_id"] = str(document.get("file_id", ""))
        if document.get("mime_type"):
            meta["document_mime_type"] = str(document["mime_type"])
    else:
        for kind, label in _MEDIA.items():
            media = message.get(kind)
            if kind == "photo" and isinstance(media, list) and media:
                # Telegram lists every size it made, smallest first.
                meta["photo_file_id"] = str(_object(media[-1], "photo size").get("file_id", ""))
                marker = label
            elif isinstance(media, dict):
                meta[f"{kind}_file_id"] = str(media.get("file_id", ""))
                emoji = media.get("emoji") if kind == "sticker" else None
                marker = f"[sticker {emoji}]" if emoji else label
            if marker:
                break
    if marker is None:
        location = message.get("location")
        if isinstance(location, dict):
            marker = f"[location: {location.get('latitude')}, {location.get('longitude')}]"
    if marker is None:
        return caption or None
    return f"{marker} {caption}" if caption else marker


def _message(update_id: int, message: dict[str, Any]) -> ParseResult:
    key = f"update:{update_id}"
    chat = _object(message.get("chat"), "message.chat")
    chat_id = _integer(chat.get("id"), "message.chat.id")
    message_id = _integer(message.get("message_id"), "message.message_id")
    chat_type = str(chat.get("type") or "unknown")
    if chat_type != "private":
        return Ignored(f"{chat_type} chat: only private chats with the bot are handled", key)
    sender = message.get("from")
    if sender is None:
        return Ignored("message without a sender", key)
    sender = _object(sender, "message.from")
    if sender.get("is_bot") is True:
        return Ignored("sent by a bot", key)
    user_id = _integer(sender.get("id"), "message.from.id")
    meta = {
        "update_id": str(update_id),
        "chat_id": str(chat_id),
        # The stored message carries the id in the same form our sender returns,
        # so a later edit or reply can find it by (chat, message).
        "message_id": f"tg:{chat_id}:{message_id}",
    }
    if sender.get("username"):
        meta["username"] = str(sender["username"])
    if sender.get("language_code"):
        meta["language_code"] = str(sender["language_code"])
    text = _content(message, meta)
    if text is None:
        return Ignored("the message carries nothing we show (a service message?)", key)
    try:
        ref = normalize("telegram", str(user_id))
    except InvalidIdentity as exc:
        raise ValueError(str(exc)) from exc
    date = message.get("date")
    sent_at = (
        datetime.fromtimestamp(date, tz=UTC)
        if isinstance(date, int) and not isinstance(date, bool)
        else None
    )
    return InboundMessage(
        channel=Channel.TELEGRAM,
        provider_message_id=key,
        sender=ref,
        sender_name=_name(sender),
        text=text,
        sent_at=sent_at,
        meta=meta,
    )


def parse_update(body: bytes) -> ParseResult:
    try:
        update = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    update = _object(update, "the update")
    update_id = _integer(update.get("update_id"), "update_id")
    key = f"update:{update_id}"
    if "message" in update:
        return _message(update_id, _object(update["message"], "message"))
    if "edited_message" in update:
        return Ignored("edited message: edits are not applied yet", key)
    kinds = sorted(k for k in update if k != "update_id")
    if not kinds:
        return Ignored("the update carries no event", key)
    return Ignored(f"{kinds[0]} updates are not handled", key)


class TelegramParser:
    offload = False  # one small JSON object: cheaper than the thread hop

    def __call__(self, inbox: Inbox, body: bytes, context: Mapping[str, Any]) -> ParseResult:
        return parse_update(body)
