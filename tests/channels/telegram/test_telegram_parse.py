"""Telegram updates → the inbound shape, cross-checked against python-telegram-bot.

PTB's ``Update.de_json`` is the reference reading of the Bot API: wherever we
and PTB look at the same field, we must see the same value.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import telegram
from tests.channels.telegram.support import ADA, fixture, update

from threadline.channels.telegram.parse import TelegramParser
from threadline.core.model import Channel, IdentityRef, Ignored, InboundMessage
from threadline.ports import Inbox

INBOX = Inbox(1, "telegram", "Acme bot", "@acme_support_bot", {})


def parse(raw: bytes) -> object:
    return TelegramParser()(INBOX, raw, {})


def ptb(raw: bytes) -> telegram.Update:
    return telegram.Update.de_json(json.loads(raw), None)


def test_private_text_message() -> None:
    raw = fixture("private_text")
    msg = parse(raw)
    ref = ptb(raw)
    assert isinstance(msg, InboundMessage)
    assert ref.message is not None
    assert ref.message.from_user is not None
    assert msg.channel is Channel.TELEGRAM
    assert msg.provider_message_id == f"update:{ref.update_id}" == "update:10000"
    assert msg.sender == IdentityRef("telegram", str(ref.message.from_user.id), verified=True)
    assert msg.sender.value == ADA
    assert msg.text == ref.message.text == "Hello, I need help with invoice 42"
    assert msg.sender_name == ref.message.from_user.full_name == "Ada"
    assert msg.sent_at == ref.message.date == datetime(2025, 1, 9, 8, 45, 45, tzinfo=UTC)
    assert msg.meta["username"] == ref.message.from_user.username == "ada"
    assert msg.meta["chat_id"] == str(ref.message.chat.id)
    assert msg.meta["message_id"] == f"tg:{ref.message.chat.id}:{ref.message.message_id}"


def test_photo_with_caption_keeps_the_largest_file_id() -> None:
    raw = fixture("private_photo_caption")
    msg = parse(raw)
    ref = ptb(raw)
    assert isinstance(msg, InboundMessage)
    assert ref.message is not None
    assert ref.message.from_user is not None
    assert msg.provider_message_id == f"update:{ref.update_id}"
    assert msg.sender.value == str(ref.message.from_user.id)
    assert msg.text == f"[photo] {ref.message.caption}"
    assert msg.meta["photo_file_id"] == ref.message.photo[-1].file_id
    assert msg.sender_name == ref.message.from_user.full_name == "Ada Lovelace"
    assert msg.attachments == ()  # files stay on Telegram until someone fetches them


def test_document_with_caption_names_the_file() -> None:
    raw = fixture("private_document")
    msg = parse(raw)
    ref = ptb(raw)
    assert isinstance(msg, InboundMessage)
    assert ref.message is not None
    assert ref.message.document is not None
    assert msg.text == f"[document: {ref.message.document.file_name}] {ref.message.caption}"
    assert msg.meta["document_file_id"] == ref.message.document.file_id
    assert msg.meta["document_mime_type"] == "application/pdf"


def test_photo_without_caption_is_still_a_message() -> None:
    data = json.loads(fixture("private_photo_caption"))
    del data["message"]["caption"]
    msg = parse(json.dumps(data).encode())
    assert isinstance(msg, InboundMessage)
    assert msg.text == "[photo]"


def test_edited_message_is_ignored_for_now() -> None:
    raw = fixture("edited_message")
    result = parse(raw)
    ref = ptb(raw)
    assert ref.edited_message is not None  # PTB agrees it is an edit, not a new message
    assert result == Ignored("edited message: edits are not applied yet", f"update:{ref.update_id}")


def test_group_chat_is_ignored_with_its_key() -> None:
    raw = fixture("group_message")
    result = parse(raw)
    ref = ptb(raw)
    assert ref.message is not None
    assert ref.message.chat.type == "supergroup"
    assert isinstance(result, Ignored)
    assert result.key == f"update:{ref.update_id}"
    assert "supergroup" in result.reason


def test_bot_sender_is_ignored() -> None:
    data = json.loads(fixture("private_text"))
    data["message"]["from"]["is_bot"] = True
    result = parse(json.dumps(data).encode())
    assert result == Ignored("sent by a bot", "update:10000")


@pytest.mark.parametrize(
    "kind",
    [
        {"callback_query": {"id": "4382", "from": {"id": 1, "is_bot": False, "first_name": "A"}}},
        {"my_chat_member": {}},
        {},
    ],
)
def test_other_updates_are_ignored_with_their_key(kind: dict[str, object]) -> None:
    result = parse(json.dumps({"update_id": 77, **kind}).encode())
    assert isinstance(result, Ignored)
    assert result.key == "update:77"


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b'{"message": {}}',
        b'{"update_id": "10000", "message": {}}',
        update("private_text", message={"message_id": 1, "text": "no chat"}),
    ],
)
def test_malformed_updates_raise(raw: bytes) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse(raw)
