"""The live-chat channel's pure parts: the identity hash and the parser's identities."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from threadline.channels.chat.parse import ChatParser, encode_payload
from threadline.core.chat_config import identity_hash, identity_matches
from threadline.core.model import IdentityRef, InboundMessage, PayloadError
from threadline.ports import Inbox

SECRET = "s" * 40
CID = "cid-0123456789abcdef"
INBOX = Inbox(1, "chat", "Acme chat", "chat_acme", {})


def test_the_identity_hash_is_hmac_sha256_of_user_and_email() -> None:
    good = identity_hash(SECRET, "u-42", "ana@example.com")
    assert identity_matches(SECRET, "u-42", "ana@example.com", good)
    assert identity_matches(SECRET, "u-42", "ana@example.com", good.upper())
    assert not identity_matches(SECRET, "u-42", "bob@example.com", good)
    assert not identity_matches("t" * 40, "u-42", "ana@example.com", good)
    assert not identity_matches(None, "u-42", "ana@example.com", good)
    short = identity_hash("short", "u-42", "ana@example.com")
    assert not identity_matches("short", "u-42", "ana@example.com", short)
    # "a\nb" + "c" would sign like "a" + "b\nc": a newline in a user id is refused.
    assert not identity_matches(SECRET, "a\nb", "c", identity_hash(SECRET, "a\nb", "c"))
    assert not identity_matches(SECRET, "u-42", "ana@example.com", "é" * 64)


def parse(**fields: Any) -> InboundMessage:
    found = ChatParser()(INBOX, encode_payload(visitor="v1", cid=CID, text="hi", **fields), {})
    assert isinstance(found, InboundMessage)
    return found


def test_the_session_proves_the_visitor_and_a_typed_email_is_only_claimed() -> None:
    msg = parse(email="Ana@Example.com", name="  Ana   S ")
    assert msg.sender == IdentityRef("chat", "v1", verified=True)
    assert msg.also == (IdentityRef("email", "ana@example.com", verified=False),)
    assert msg.sender_name == "Ana S"
    assert msg.provider_message_id == f"chat:v1:{CID}"


def test_a_signed_identity_is_verified_and_names_the_bound_conversation() -> None:
    msg = parse(email="ana@example.com", external_id="u-42", verified=True, conversation_id=9)
    assert msg.also == (
        IdentityRef("external", "u-42", verified=True),
        IdentityRef("email", "ana@example.com", verified=True),
    )
    assert msg.hints.conversation_id == 9


def test_a_payload_from_elsewhere_is_refused() -> None:
    body = msgspec.json.encode({"v": 1, "visitor": "v1", "cid": CID, "text": "hi", "admin": True})
    with pytest.raises(PayloadError):
        ChatParser()(INBOX, body, {})
