"""MetaParser on payloads Meta would never send: each is refused with
PayloadError (the parser's one declared error) or read safely, never a crash."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from tests.channels.meta.support import PAGE_ID, PHONE_NUMBER_ID, fixture

from threadline.channels.meta.parse import MetaParser
from threadline.core.model import Ignored, InboundMessage, PayloadError
from threadline.ports import Inbox

WHATSAPP = Inbox(1, "whatsapp", "Acme", PHONE_NUMBER_ID)
MESSENGER = Inbox(2, "messenger", "Acme", PAGE_ID)


def _wa_message(**changes: Any) -> bytes:
    doc = copy.deepcopy(fixture("whatsapp_text"))
    doc["entry"][0]["changes"][0]["value"]["messages"][0].update(changes)
    return json.dumps(doc).encode()


def _messenger(event_changes: dict[str, Any], name: str = "messenger_text") -> bytes:
    doc = copy.deepcopy(fixture(name))
    doc["entry"][0]["messaging"][0].update(event_changes)
    return json.dumps(doc).encode()


# Crashers of the old parser: TypeError, OverflowError, OSError, ValueError
# (year out of range) and orjson's encode error on a deep value.
@pytest.mark.parametrize(
    "timestamp",
    [10**30, -(10**30), 1e308, 253402300800000, -62135596801, "99999999999999999999", [1], {}],
)
def test_absurd_timestamps_are_dropped_not_trusted(timestamp: Any) -> None:
    [msg] = MetaParser()(WHATSAPP, _wa_message(timestamp=timestamp), {})
    assert isinstance(msg, InboundMessage)
    assert msg.sent_at is None


@pytest.mark.parametrize(
    "body",
    [
        _wa_message(id={"not": "an id"}),
        _wa_message(id="x" * 5000),
        _messenger({"sender": {"id": {"a": 1}}}),
        _messenger({"message": {"mid": [], "text": "hi"}}),
        json.dumps({"object": ["page"], "entry": []}).encode(),
    ],
)
def test_unexpected_types_raise_payload_error(body: bytes) -> None:
    with pytest.raises(PayloadError):
        MetaParser()(WHATSAPP if b"whatsapp" in body else MESSENGER, body, {})


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def test_deeply_nested_json_is_a_payload_error() -> None:
    # An unhandled "changes" item is hashed for its key: orjson refuses past 254 levels.
    doc = {"object": "page", "entry": [{"id": PAGE_ID, "changes": [_nested(300)]}]}
    with pytest.raises(PayloadError, match="nested"):
        MetaParser()(MESSENGER, json.dumps(doc).encode(), {})


def test_non_text_values_never_reach_the_text() -> None:
    doc = copy.deepcopy(fixture("whatsapp_text"))
    value = doc["entry"][0]["changes"][0]["value"]
    value["messages"][0]["text"] = {"body": {"deep": ["x"]}}
    value["contacts"][0]["profile"] = {"name": ["Sheena"]}
    [msg] = MetaParser()(WHATSAPP, json.dumps(doc).encode(), {})
    assert isinstance(msg, InboundMessage)
    assert msg.text == ""
    assert msg.sender_name is None


def test_a_delivery_whose_mids_is_not_a_list_names_no_message() -> None:
    # The old parser iterated it: TypeError on a number.
    body = _messenger({"delivery": {"mids": 5, "watermark": 1}}, "messenger_delivery")
    [result] = MetaParser()(MESSENGER, body, {})
    assert isinstance(result, Ignored)
