"""What the email tests share: recorded .eml fixtures, a plain customer mail built
header by header, the parsed message asserted to be an InboundMessage, and the
stored rows a delivery left."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from tests.support.factories import make_email_inbox

from threadline.channels.email.imap import ImapConfig
from threadline.channels.email.mailbox import imap_config
from threadline.channels.email.parse import parse_email
from threadline.core.model import InboundMessage
from threadline.ports import Inbox
from threadline.storage.tables import messages

__all__ = [
    "FIXTURES",
    "html_part",
    "imap_inbox",
    "inbound",
    "load",
    "mail",
    "message_by_mid",
    "rows",
]

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


async def rows(c: Any, query: Any) -> list[Any]:
    return list(await c.db.read(lambda conn: conn.execute(query).all()))


async def message_by_mid(c: Any, mid: str) -> Any:
    """The one stored message with this Message-ID."""
    found = await rows(c, sa.select(messages).where(messages.c.provider_message_id == mid))
    assert len(found) == 1, found
    return found[0]


async def imap_inbox(c: Any, dovecot: Any) -> tuple[Inbox, ImapConfig]:
    """An email inbox that polls the test Dovecot's INBOX, and its IMAP settings."""
    inbox_id = await make_email_inbox(
        c,
        imap={
            "host": dovecot.host,
            "port": dovecot.port,
            "username": dovecot.user,
            "password": dovecot.password,
            "ssl": False,
        },
    )
    inbox = await c.bus.inbox(inbox_id)
    config = imap_config(inbox)
    assert config is not None
    return inbox, config
