"""MetaParser on Meta's documented payloads, and the signature and handshake checks."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.channels.meta.support import (
    APP_SECRET,
    IG_ID,
    IGSID,
    PAGE_ID,
    PHONE_NUMBER_ID,
    PSID,
    WA_ID,
    fixture,
    meta_signature,
    raw,
)

from threadline.channels.meta.parse import MetaParser
from threadline.channels.meta.signature import handshake_challenge, signature_valid
from threadline.core.model import (
    Channel,
    DeliveryStatus,
    IdentityRef,
    Ignored,
    InboundMessage,
    StatusUpdate,
)
from threadline.ports import Inbox

WHATSAPP = Inbox(1, "whatsapp", "Acme", PHONE_NUMBER_ID)
MESSENGER = Inbox(2, "messenger", "Acme", PAGE_ID)
INSTAGRAM = Inbox(3, "instagram", "Acme", IG_ID)


def parse(inbox: Inbox, data: Any) -> list[Any]:
    return MetaParser()(inbox, raw(data), {})


def wa_message(message: dict[str, Any]) -> dict[str, Any]:
    """The documented text notification carrying another message."""
    data = fixture("whatsapp_text")
    data["entry"][0]["changes"][0]["value"]["messages"] = [message]
    return data


def test_whatsapp_text_message() -> None:
    [msg] = parse(WHATSAPP, fixture("whatsapp_text"))
    assert isinstance(msg, InboundMessage)
    assert msg.channel is Channel.WHATSAPP
    assert msg.provider_message_id.startswith("wamid.HBgLMTY1MDM4Nzk0")
    assert msg.sender == IdentityRef("whatsapp", WA_ID)
    assert msg.also == (IdentityRef("phone", "+16505551234"),)
    assert msg.meta["user_id"] == "US.13491208655302741918"
    assert msg.sender_name == "Sheena Nelson"
    assert msg.text == "Does it come in another color?"
    assert msg.sent_at == datetime(2025, 6, 8, 20, 59, 43, tzinfo=UTC)


def test_whatsapp_image_is_readable_and_keeps_the_media_id() -> None:
    [msg] = parse(WHATSAPP, fixture("whatsapp_image"))
    assert msg.text == "[image] This is the one I got, the strap is torn"
    assert msg.meta["media_id"] == "1003383421387256"
    assert msg.meta["mime_type"] == "image/jpeg"
    assert msg.attachments == ()  # downloading is not the parser's job


@pytest.mark.parametrize(
    ("message", "text", "meta"),
    [
        (
            {"type": "audio", "audio": {"id": "77", "mime_type": "audio/ogg", "voice": True}},
            "[voice message]",
            {"media_id": "77"},
        ),
        (
            {
                "type": "document",
                "document": {"id": "12", "filename": "invoice.pdf", "mime_type": "application/pdf"},
            },
            "[document] invoice.pdf",
            {"filename": "invoice.pdf"},
        ),
        (
            {
                "type": "location",
                "location": {
                    "latitude": 37.4611978,
                    "longitude": -122.2164385,
                    "name": "Facebook HQ",
                    "address": "1 Hacker Way, Menlo Park, CA 94025",
                },
            },
            "[location] Facebook HQ, 1 Hacker Way, Menlo Park, CA 94025 (37.4611978, -122.2164385)",
            {"latitude": "37.4611978"},
        ),
        (
            {
                "type": "contacts",
                "contacts": [
                    {
                        "name": {"formatted_name": "Chandler Bing"},
                        "phones": [{"phone": "+1 555-555-5555", "type": "CELL"}],
                    }
                ],
            },
            "[contacts] Chandler Bing +1 555-555-5555",
            {},
        ),
        (
            {
                "type": "interactive",
                "interactive": {
                    "type": "button_reply",
                    "button_reply": {"id": "track-4417", "title": "Track my order"},
                },
            },
            "[button] Track my order",
            {"reply_id": "track-4417"},
        ),
        (
            {"type": "button", "button": {"payload": "STOP", "text": "Stop promotions"}},
            "[button] Stop promotions",
            {"payload": "STOP"},
        ),
        (
            {"type": "reaction", "reaction": {"message_id": "wamid.ours", "emoji": "👍"}},
            "[reaction] 👍",
            {"reacted_to": "wamid.ours"},
        ),
        (
            {
                "type": "unsupported",
                "errors": [
                    {
                        "code": 131051,
                        "title": "Message type unknown",
                        "message": "Message type unknown",
                        "error_data": {"details": "Message type is currently not supported."},
                    }
                ],
            },
            "[unsupported] Message type is currently not supported. "
            "(WhatsApp error 131051: Message type unknown)",
            {},
        ),
    ],
)
def test_whatsapp_media_and_other_types_become_readable_text(
    message: dict[str, Any], text: str, meta: dict[str, str]
) -> None:
    message = {"from": WA_ID, "id": "wamid.T", "timestamp": "1749416383", **message}
    [msg] = parse(WHATSAPP, wa_message(message))
    assert msg.text == text
    assert meta.items() <= msg.meta.items()


def test_whatsapp_quoted_reply_is_a_thread_hint() -> None:
    message = {
        "context": {"from": "15550783881", "id": "wamid.OUR-REPLY"},
        "from": WA_ID,
        "id": "wamid.T2",
        "timestamp": "1749416383",
        "type": "text",
        "text": {"body": "replied text"},
    }
    [msg] = parse(WHATSAPP, wa_message(message))
    assert msg.hints.message_ids == ("wamid.OUR-REPLY",)


def test_whatsapp_user_with_only_a_business_scoped_id() -> None:
    data = fixture("whatsapp_text")
    value = data["entry"][0]["changes"][0]["value"]
    del value["contacts"][0]["wa_id"]
    del value["messages"][0]["from"]
    [msg] = parse(WHATSAPP, data)
    assert msg.sender == IdentityRef("whatsapp", "US.13491208655302741918")
    assert msg.also == ()


def test_whatsapp_status_batch() -> None:
    results = parse(WHATSAPP, fixture("whatsapp_statuses"))
    assert all(isinstance(r, StatusUpdate) for r in results)
    assert [r.status for r in results] == [
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.READ,
        DeliveryStatus.FAILED,
    ]
    sent, _, read, failed = results
    assert sent.key == f"wa-status:{sent.provider_message_ids[0]}:sent"
    assert read.key == f"wa-status:{sent.provider_message_ids[0]}:read"
    assert len({r.key for r in results}) == 4
    assert failed.error is not None
    assert "more than 24 hours have passed" in failed.error
    assert "131047" in failed.error


def test_a_batch_for_two_numbers_gives_each_inbox_its_own() -> None:
    data = fixture("whatsapp_text")
    other = copy.deepcopy(data["entry"][0])
    other["changes"][0]["value"]["metadata"]["phone_number_id"] = "999000999"
    other["changes"][0]["value"]["messages"][0]["id"] = "wamid.for-the-other-number"
    data["entry"].append(other)
    assert [m.provider_message_id for m in parse(WHATSAPP, data)] == [
        fixture("whatsapp_text")["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    ]
    assert [m.provider_message_id for m in parse(Inbox(9, "whatsapp", "B", "999000999"), data)] == [
        "wamid.for-the-other-number"
    ]


def test_messenger_text_message() -> None:
    [msg] = parse(MESSENGER, fixture("messenger_text"))
    assert msg.channel is Channel.MESSENGER
    assert msg.provider_message_id == "mid.1457764197618:41d102a3e1ae206a38"
    assert msg.sender == IdentityRef("messenger", PSID)
    assert msg.text == "hello, world!"
    assert msg.sent_at == datetime(2016, 3, 23, 0, 25, 52, 478000, tzinfo=UTC)


def test_messenger_echo_is_ignored_with_a_key() -> None:
    [result] = parse(MESSENGER, fixture("messenger_echo"))
    assert result == Ignored(
        "an echo of a message the page sent", key="echo:mid.1457764197618:41d102a3e1ae206a99"
    )


def test_messenger_delivery_and_read() -> None:
    [delivered] = parse(MESSENGER, fixture("messenger_delivery"))
    assert delivered == StatusUpdate(
        DeliveryStatus.DELIVERED,
        ("mid.1458668856218:ed81099e15d3f4f233",),
        key="messenger-status:mid.1458668856218:ed81099e15d3f4f233:delivered",
    )
    # Not done: a read watermark is not matched to the messages before it.
    [read] = parse(MESSENGER, fixture("messenger_read"))
    assert isinstance(read, Ignored)
    assert read.key == f"messenger-read:{PSID}:1458668856253"


def test_messenger_attachments_and_quick_replies() -> None:
    data = fixture("messenger_text")
    data["entry"][0]["messaging"][0]["message"] = {
        "mid": "m_att",
        "attachments": [{"type": "image", "payload": {"url": "https://scontent.example/1.jpg"}}],
        "quick_reply": {"payload": "ORDER_STATUS"},
    }
    [msg] = parse(MESSENGER, data)
    assert msg.text == "[image]"
    assert msg.meta["attachment_urls"] == "https://scontent.example/1.jpg"
    assert msg.meta["quick_reply"] == "ORDER_STATUS"


def test_instagram_direct_message() -> None:
    [msg] = parse(INSTAGRAM, fixture("instagram_dm"))
    assert msg.channel is Channel.INSTAGRAM
    assert msg.sender == IdentityRef("instagram", IGSID)
    assert msg.text == "Hi! Is the blue one back in stock?"
    assert msg.sent_at == datetime(2018, 3, 7, 0, 46, 11, tzinfo=UTC)


def test_instagram_read_receipt_names_the_message() -> None:
    data = fixture("instagram_dm")
    data["entry"][0]["messaging"][0] = {
        "sender": {"id": IGSID},
        "recipient": {"id": IG_ID},
        "timestamp": 1520383571,
        "read": {"mid": "aWdfOURS"},
    }
    [read] = parse(INSTAGRAM, data)
    assert read == StatusUpdate(
        DeliveryStatus.READ, ("aWdfOURS",), key="instagram-status:aWdfOURS:read"
    )


def test_events_we_do_not_handle_are_ignored_with_stable_keys() -> None:
    data = fixture("messenger_text")
    data["entry"][0]["messaging"][0] = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1458692752478,
        "optin": {"ref": "<PASS_THROUGH_PARAM>"},
    }
    [first] = parse(MESSENGER, data)
    [again] = parse(MESSENGER, data)
    assert isinstance(first, Ignored)
    assert first.key
    assert first.key == again.key


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"object": "page"}',
        b'{"object": "user", "entry": []}',
        b'{"object": "page", "entry": [{"id": "1", "messaging": "oops"}]}',
        b'{"object": "page", "entry": [{"id": "1", "messaging": [{"message": {"text": "no mid"}}]}]}',
    ],
)
def test_unusable_payloads_raise_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the bus quarantines any ValueError
        MetaParser()(Inbox(2, "messenger", "Acme", "1"), body, {})


def test_signature_is_checked_over_the_raw_bytes() -> None:
    body = raw(fixture("whatsapp_text"))
    assert signature_valid(APP_SECRET, body, meta_signature(body))
    assert not signature_valid(APP_SECRET, body + b" ", meta_signature(body))
    assert not signature_valid("another-secret", body, meta_signature(body))
    assert not signature_valid(APP_SECRET, body, None)
    assert not signature_valid("", body, meta_signature(body, ""))
    # Meta signs escaped unicode; the same JSON written with raw UTF-8 is different bytes.
    unicode_body = raw({"text": "äöå"})
    assert b"\\u00e4" in unicode_body
    assert not signature_valid(
        APP_SECRET, unicode_body.decode("unicode_escape").encode(), meta_signature(unicode_body)
    )


def test_handshake() -> None:
    ok = {"hub.mode": "subscribe", "hub.verify_token": "t1", "hub.challenge": "1158201444"}
    assert handshake_challenge(ok, ["other", "t1"]) == "1158201444"
    assert handshake_challenge(ok, ["other"]) is None
    assert handshake_challenge({**ok, "hub.mode": "unsubscribe"}, ["t1"]) is None
    assert handshake_challenge({**ok, "hub.verify_token": ""}, [""]) is None
