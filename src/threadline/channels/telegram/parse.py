"""Telegram inbound: one Bot API Update per webhook POST.

The receipt key is ``update:<update_id>``: Telegram numbers updates so a bot
can ignore repeats, and it repeats any update we did not answer with 2xx.
Only private chats with the bot become messages; a help desk answers people,
not groups or channels. Files stay on Telegram's servers: the parser records
their file ids, and nothing here downloads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import msgspec

from threadline.channels.checks import MAX_ID, clean_text, identity, load_json, unix_time
from threadline.core.model import Channel, Ignored, InboundMessage, ParseResult, PayloadError
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

# Bot API ids are integers up to 52 bits; chat ids are negative for groups.
_Id = Annotated[int, msgspec.Meta(ge=-MAX_ID, le=MAX_ID)]


# The Bot API's own types, as far as we read them: a value of the wrong type
# refuses the update here, at the boundary, instead of surprising code below.
class _File(msgspec.Struct):
    file_id: str = ""
    file_name: str | None = None
    mime_type: str | None = None
    emoji: str | None = None


class _Location(msgspec.Struct):
    latitude: float
    longitude: float


class _User(msgspec.Struct):
    id: _Id
    is_bot: bool = False
    first_name: str = ""
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


class _Chat(msgspec.Struct):
    id: _Id
    type: str = "unknown"


class _Message(msgspec.Struct, rename={"sender": "from"}):
    message_id: _Id
    chat: _Chat
    sender: _User | None = None
    date: int | None = None
    text: str | None = None
    caption: str | None = None
    document: _File | None = None
    photo: list[_File] | None = None
    video: _File | None = None
    voice: _File | None = None
    audio: _File | None = None
    video_note: _File | None = None
    animation: _File | None = None
    sticker: _File | None = None
    location: _Location | None = None


class _Update(msgspec.Struct):
    update_id: _Id
    message: _Message | None = None


def _name(user: _User) -> str | None:
    parts = [(p or "").strip() for p in (user.first_name, user.last_name)]
    return clean_text(" ".join(p for p in parts if p)) or None


def _media_marker(message: _Message, meta: dict[str, str]) -> str | None:
    if message.document is not None:
        document = message.document
        marker = f"[document: {document.file_name or 'unnamed'}]"
        meta["document_file_id"] = document.file_id
        if document.mime_type:
            meta["document_mime_type"] = document.mime_type
        return marker
    if message.photo:
        # Telegram lists every size it made, smallest first.
        meta["photo_file_id"] = message.photo[-1].file_id
        return _MEDIA["photo"]
    for kind, label in _MEDIA.items():
        media = getattr(message, kind)
        if isinstance(media, _File):
            meta[f"{kind}_file_id"] = media.file_id
            return f"[sticker {media.emoji}]" if kind == "sticker" and media.emoji else label
    if message.location is not None:
        return f"[location: {message.location.latitude}, {message.location.longitude}]"
    return None


def _content(message: _Message, meta: dict[str, str]) -> str | None:
    """The text an agent reads: the text itself, or a marker and the caption."""
    if message.text and message.text.strip():
        return message.text
    caption = (message.caption or "").strip()
    marker = _media_marker(message, meta)
    if marker is None:
        return caption or None
    return f"{marker} {caption}" if caption else marker


def _message(update_id: int, message: _Message) -> ParseResult:
    key = f"update:{update_id}"
    chat_id = message.chat.id
    chat_type = message.chat.type or "unknown"
    if chat_type != "private":
        shown = clean_text(chat_type)[:50]
        return Ignored(f"{shown} chat: only private chats with the bot are handled", key)
    sender = message.sender
    if sender is None:
        return Ignored("message without a sender", key)
    if sender.is_bot:
        return Ignored("sent by a bot", key)
    meta = {
        "update_id": str(update_id),
        "chat_id": str(chat_id),
        # The stored message carries the id in the same form our sender returns,
        # so a later edit or reply can find it by (chat, message).
        "message_id": f"tg:{chat_id}:{message.message_id}",
    }
    if sender.username:
        meta["username"] = sender.username
    if sender.language_code:
        meta["language_code"] = sender.language_code
    text = _content(message, meta)
    if text is None:
        return Ignored("the message carries nothing we show (a service message?)", key)
    return InboundMessage(
        channel=Channel.TELEGRAM,
        provider_message_id=key,
        sender=identity("telegram", str(sender.id)),
        sender_name=_name(sender),
        text=clean_text(text),
        sent_at=unix_time(message.date),
        meta={name: clean_text(value) for name, value in meta.items()},
    )


def parse_update(body: bytes) -> ParseResult:
    doc = load_json(body)
    if not isinstance(doc, dict):
        raise PayloadError("the update is not a JSON object")
    update_id = doc.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise PayloadError(
            "update_id is missing or not an integer"
        )  # said first: it names the update
    try:
        update = msgspec.convert(doc, _Update)
    except msgspec.ValidationError as exc:
        raise PayloadError(f"not a Telegram update: {exc}") from exc
    key = f"update:{update.update_id}"
    if update.message is not None:
        return _message(update.update_id, update.message)
    if "edited_message" in doc:
        return Ignored("edited message: edits are not applied yet", key)
    kinds = sorted(k for k in doc if k != "update_id")
    if not kinds:
        return Ignored("the update carries no event", key)
    return Ignored(f"{clean_text(kinds[0])[:100]} updates are not handled", key)


class TelegramParser:
    offload = False  # one small JSON object: cheaper than the thread hop

    def __call__(self, inbox: Inbox, body: bytes, context: Mapping[str, Any]) -> ParseResult:
        return parse_update(body)
