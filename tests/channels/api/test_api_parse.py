"""The API channel's parser: what a caller's JSON may hold, and what it may not."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from threadline.channels.api.parse import ApiParser
from threadline.core.model import InboundMessage, PayloadError
from threadline.ports import Inbox

INBOX = Inbox(1, "api", "Acme app", "acme-app", {})


def parse(body: bytes) -> InboundMessage:
    return ApiParser()(INBOX, body, {})


def message(**changes: Any) -> bytes:
    doc: dict[str, Any] = {"id": "m-1", "customer": {"email": "ana@example.com"}, "text": "hi"}
    doc.update(changes)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    "body",
    [
        # found by tests/fuzz: msgspec raised UnicodeDecodeError on invalid UTF-8
        b'{"\xffid": null, "customer": {"email": "ana@example.com"}, "text": "hi"}',
        message(conversation_id=10**30),
        message(conversation_id=-1),
        message(id="x" * 1000),
        message(sent_at="2026-01-31T09:00:00"),  # no zone: which time was it?
        message(sent_at="9999-12-31T23:59:59-10:00"),  # past what datetime holds in UTC
        message(sent_at="0001-01-01T00:00:00+14:00"),
        message(customer={"phone": "not a phone"}),
        message(customer={"email": "x" * 300 + "@example.com"}),
        b'{"customer": {"email": "a@b.co"}, "text": "x", "z": ' + b"[" * 100_000,
    ],
)
def test_unusable_messages_raise_payload_error(body: bytes) -> None:
    with pytest.raises(PayloadError):
        parse(body)


def test_sent_at_is_kept_in_utc() -> None:
    msg = parse(message(sent_at="2026-01-31T10:00:00+01:00"))
    assert msg.sent_at == datetime(2026, 1, 31, 9, tzinfo=UTC)


def test_nul_is_dropped_from_text_and_name() -> None:
    msg = parse(
        message(text="a\u0000b", customer={"email": "ana@example.com", "name": "A\u0000na"})
    )
    assert (msg.text, msg.sender_name) == ("ab", "Ana")
