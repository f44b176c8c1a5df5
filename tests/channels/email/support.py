"""What the parse_email tests share: recorded .eml fixtures, a plain customer mail
built header by header, and the parsed message asserted to be an InboundMessage."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

from threadline.channels.email.parse import parse_email
from threadline.core.model import InboundMessage

__all__ = ["FIXTURES", "html_part", "inbound", "load", "mail"]

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> bytes:
    return (FIXTURES / f"{name}.eml").read_bytes()


def inbound(raw: bytes, **kwargs: Any) -> InboundMessage:
    result = parse_email(raw, **kwargs)
    assert isinstance(result, InboundMessage), result
    return result


def mail(
    *extra: str,
    body: bytes = b"Hello, where is my order?\r\n",
    content_type: str = "text/plain; charset=utf-8",
    cte: str = "8bit",
    drop: tuple[str, ...] = (),
) -> bytes:
    """A plain customer mail; ``extra`` headers go first, ``drop`` removes base ones."""
    base = {
        "From": "Ana Lima <ana.lima@gmail.com>",
        "To": "support@support.example",
        "Subject": "Where is my order?",
        "Date": "Mon, 3 Nov 2025 12:02:07 +0100",
        "Message-ID": "<CAJx9fPq0base@mail.gmail.com>",
        "MIME-Version": "1.0",
        "Content-Type": content_type,
        "Content-Transfer-Encoding": cte,
    }
    lines = [*extra, *(f"{k}: {v}" for k, v in base.items() if k not in drop)]
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + body


def html_part(name: str) -> str:
    msg = email.message_from_bytes(load(name), policy=email.policy.default)
    part = msg.get_body(preferencelist=("html",))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content
