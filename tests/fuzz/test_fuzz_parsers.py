"""Every non-email parser, fed mutated recorded payloads: it returns a result or
raises PayloadError, and nothing else (ports.Parser's contract).

The seeds are the recorded payloads under tests/channels/*/fixtures, plus the
README's API examples. `make fuzz` runs the long profile.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.mutations import budget, form_bytes, mutated_form, mutated_json

from threadline.channels.api.parse import ApiParser
from threadline.channels.meta.parse import MetaParser
from threadline.channels.telegram.parse import TelegramParser
from threadline.channels.twilio.sms import SmsParser, StatusParser
from threadline.channels.twilio.voice import VoiceParser
from threadline.core.model import PayloadError
from threadline.ports import Inbox, Parser

CHANNELS = Path(__file__).parent.parent / "channels"
VOICE_URL = "https://help.acme.example/webhooks/twilio/voice"

API_SEEDS: list[dict[str, Any]] = [
    {
        "id": "order-svc-1842",
        "customer": {"external_id": "u42", "email": "ana@example.com"},
        "text": "Where is my refund?",
    },
    {
        "id": "order-svc-1843",
        "customer": {"email": "ana@example.com", "name": "Ana", "verified": False},
        "text": "hello",
        "subject": "Refund",
        "conversation_id": 7,
        "inbox_id": 1,
        "sent_at": "2026-01-31T09:00:00Z",
    },
    {"customer": {"phone": "+1 415 555 0101"}, "text": "hi"},
]
# Which voice route each recorded form was posted to (the receipt's context).
VOICE_HOOKS = {
    "incoming_call": "incoming",
    "status_completed": "status",
    "dial_done_completed": "dial-done",
    "dial_done_no_answer": "dial-done",
    "voicemail": "voicemail",
    "recording_completed": "recording",
    "transcription": "transcription",
}


def _json_seeds(provider: str) -> list[Any]:
    return [
        json.loads(p.read_text()) for p in sorted((CHANNELS / provider / "fixtures").glob("*.json"))
    ]


def _forms(provider: str, names: tuple[str, ...]) -> list[dict[str, str]]:
    return [json.loads((CHANNELS / provider / "fixtures" / f"{n}.json").read_text()) for n in names]


def holds_the_contract(parser: Parser, inbox: Inbox, body: bytes, context: dict[str, Any]) -> None:
    # Anything but PayloadError propagates, and hypothesis reports it with the payload.
    with contextlib.suppress(PayloadError):
        parser(inbox, body, context)


def _inbox(channel: str, address: str = "", **config: Any) -> Inbox:
    return Inbox(1, channel, "fuzz", address, config)


def _json_case(
    seeds: list[Any],
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    return given(st.sampled_from(seeds).flatmap(mutated_json))


@settings(max_examples=budget(1))
@_json_case(_json_seeds("meta"))
def test_meta_parser_returns_or_raises_payload_error(body: bytes) -> None:
    # An inbox with no address takes every event of the batch: the whole parser runs.
    holds_the_contract(MetaParser(), _inbox("whatsapp"), body, {})


@settings(max_examples=budget(1))
@_json_case(_json_seeds("telegram"))
def test_telegram_parser_returns_or_raises_payload_error(body: bytes) -> None:
    holds_the_contract(TelegramParser(), _inbox("telegram"), body, {})


@settings(max_examples=budget(1))
@_json_case(API_SEEDS)
def test_api_parser_returns_or_raises_payload_error(body: bytes) -> None:
    holds_the_contract(ApiParser(), _inbox("api", default_region="US"), body, {})


SMS_FORMS = _forms("twilio_sms", ("inbound_sms", "inbound_mms"))
STATUS_FORMS = _forms("twilio_sms", ("status_delivered", "status_sent"))


@settings(max_examples=budget(1))
@given(st.sampled_from(SMS_FORMS).flatmap(mutated_form))
def test_twilio_sms_parser_returns_or_raises_payload_error(form: dict[str, str]) -> None:
    holds_the_contract(SmsParser(), _inbox("sms", "+14155550100"), form_bytes(form), {})


@settings(max_examples=budget(1))
@given(st.sampled_from(STATUS_FORMS).flatmap(mutated_form))
def test_twilio_status_parser_returns_or_raises_payload_error(form: dict[str, str]) -> None:
    holds_the_contract(StatusParser(), _inbox("sms", "+14155550100"), form_bytes(form), {})


@settings(max_examples=budget(1))
@given(
    st.sampled_from(sorted(VOICE_HOOKS)).flatmap(
        lambda name: st.tuples(
            st.just(VOICE_HOOKS[name]), mutated_form(_forms("twilio_voice", (name,))[0])
        )
    ),
    st.sampled_from(["", "?From=%2B14155550101&To=%2B14155550100&Direction=outbound-api", "?%ff"]),
)
def test_twilio_voice_parser_returns_or_raises_payload_error(
    case: tuple[str, dict[str, str]], query: str
) -> None:
    hook, form = case
    context = {"hook": hook, "url": VOICE_URL + query}
    holds_the_contract(VoiceParser(), _inbox("voice", "+14155550100"), form_bytes(form), context)


@pytest.mark.parametrize(
    ("parser", "body"),
    [
        (TelegramParser(), b"\xff\xfe"),
        (MetaParser(), b"{" * 100_000),
        (ApiParser(), b'{"customer": {"email": "a@b.co"}, "text": "x", "z": ' + b"[" * 100_000),
        (SmsParser(), b"%ff%fe=%00&From=%ZZ"),
    ],
)
def test_raw_garbage_is_a_payload_error(parser: Parser, body: bytes) -> None:
    with pytest.raises(PayloadError):
        parser(_inbox("x"), body, {})
