"""TelegramParser on updates Telegram would never send: refused with
PayloadError, or read safely; never another exception."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.channels.telegram.support import fixture

from threadline.channels.telegram.parse import TelegramParser
from threadline.core.model import InboundMessage, PayloadError
from threadline.ports import Inbox

INBOX = Inbox(1, "telegram", "Acme bot", "@acme_support_bot", {})


def _message(**changes: Any) -> bytes:
    doc = json.loads(fixture("private_text"))
    doc["message"].update(changes)
    return json.dumps(doc).encode()


def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("date", [2**62, -(10**12), 253402300800, 2**40])
def test_absurd_dates_are_dropped(date: int) -> None:
    # The old parser passed these to datetime.fromtimestamp: OverflowError, OSError, ValueError.
    msg = TelegramParser()(INBOX, _message(date=date), {})
    assert isinstance(msg, InboundMessage)
    assert msg.sent_at is None


@pytest.mark.parametrize(
    "body",
    [
        # str() of a 900-deep list recursed past the interpreter's limit
        _message(text=None, document={"file_id": "f", "file_name": _nested(900)}),
        _message(chat={"id": 10**30, "type": "private"}),
        _message(date=10**30),  # beyond 64 bits: a float in JSON, not a Bot API date
        _message(**{"from": {"id": "1111111", "first_name": "Ada"}}),
        _message(photo=[{"file_id": ["x"]}], text=None),
        json.dumps({"update_id": 1, "message": {"message_id": 1, "chat": []}}).encode(),
        b"\xff\xfe",
    ],
)
def test_wrong_types_and_depths_raise_payload_error(body: bytes) -> None:
    with pytest.raises(PayloadError):
        TelegramParser()(INBOX, body, {})


def test_nul_in_text_is_dropped_before_the_store() -> None:
    msg = TelegramParser()(INBOX, _message(text="hi\u0000 there"), {})
    assert isinstance(msg, InboundMessage)
    assert msg.text == "hi there"
