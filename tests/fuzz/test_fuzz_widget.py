"""The widget's decoders, fed mutated frames and payloads: each returns its result
or raises its one declared error (FrameError, PayloadError), and nothing else."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.mutations import budget, mutated_json

from threadline.channels.chat.frames import MAX_FRAME, FrameError, decode_frame
from threadline.channels.chat.parse import ChatParser, to_inbound
from threadline.core.model import PayloadError
from threadline.ports import Inbox

CID = "0f6c2a9e-7d51-4b8e-9a51-3f1c2b7d9e10"
FRAMES: list[dict[str, Any]] = [
    {"type": "hello", "v": 1, "since": 0},
    {
        "type": "hello",
        "v": 1,
        "since": 12,
        "token": "k" * 43,
        "identity": {
            "user_id": "u-42",
            "email": "ana@example.com",
            "name": "Ana",
            "hash": "a" * 64,
        },
    },
    {"type": "send", "cid": CID, "text": "Where is my order?", "attachments": ["up_abc"]},
    {"type": "typing", "on": True},
    {"type": "read", "seq": 7},
    {"type": "profile", "name": "Ana", "email": "ana@example.com"},
    {"type": "csat", "score": 5, "comment": "quick"},
    {"type": "transcript", "email": "ana@example.com"},
    {"type": "ping"},
]
PAYLOADS: list[dict[str, Any]] = [
    {"v": 1, "visitor": "a1b2c3", "cid": CID, "text": "hello"},
    {
        "v": 1,
        "visitor": "a1b2c3",
        "cid": CID,
        "text": "hello",
        "uploads": ["up_1", "up_2"],
        "name": "Ana",
        "email": "ana@example.com",
        "external_id": "u-42",
        "verified": True,
        "conversation_id": 3,
    },
]
INBOX = Inbox(1, "chat", "fuzz", "chat_fuzz", {})


@settings(max_examples=budget(1))
@given(st.sampled_from(FRAMES).flatmap(mutated_json))
def test_the_frame_decoder_returns_a_frame_or_raises_frame_error(raw: bytes) -> None:
    with contextlib.suppress(FrameError):
        decode_frame(raw)
    with contextlib.suppress(FrameError, UnicodeDecodeError):
        decode_frame(raw.decode("utf-8", "surrogateescape"))


@settings(max_examples=budget(1))
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_any_text_or_bytes_is_a_frame_or_a_frame_error(raw: str | bytes) -> None:
    with contextlib.suppress(FrameError):
        decode_frame(raw)


@settings(max_examples=budget(1))
@given(st.sampled_from(PAYLOADS).flatmap(mutated_json))
def test_the_chat_parser_returns_a_message_or_raises_payload_error(body: bytes) -> None:
    with contextlib.suppress(PayloadError):
        ChatParser()(INBOX, body, {})


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("x" * (MAX_FRAME + 1), "too_large"),
        ("é" * (MAX_FRAME // 2 + 1), "too_large"),  # counted in bytes, not characters
        ('{"type": "ping", "z": ' + "[" * 5000 + "]" * 5000 + "}", "bad_frame"),
        ("\ud800", "bad_frame"),
        (b"\xff\xfe", "bad_frame"),
        ('{"type": "hello", "v": 2}', "bad_frame"),
        ('{"type": "read", "seq": -1}', "bad_frame"),
        ('{"type": "csat", "score": 6}', "bad_frame"),
        ('{"type": "send", "cid": "' + "c" * 20 + '", "text": "' + "t" * 5001 + '"}', "bad_frame"),
        ('[{"type": "ping"}]', "bad_frame"),
    ],
)
def test_frames_outside_the_bounds_are_refused_with_their_code(raw: str | bytes, code: str) -> None:
    with pytest.raises(FrameError) as refused:
        decode_frame(raw)
    assert refused.value.code == code


def test_a_whitespace_message_is_a_payload_error() -> None:
    from threadline.channels.chat.parse import ChatPayload

    with pytest.raises(PayloadError):
        to_inbound(ChatPayload(v=1, visitor="a1", cid=CID, text=" \x00\n "))
