"""Sending mail to our own SMTP server over a real socket, as a sender's MTA does."""

from __future__ import annotations

import smtplib
from typing import Any

import anyio.to_thread

from tests.support.factories import SUPPORT

__all__ = ["crlf", "smtp_send"]


def crlf(raw: bytes) -> bytes:
    """On the wire (SMTP, IMAP APPEND, DKIM) every line ends in CRLF."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


async def smtp_send(
    port: int,
    raw: bytes,
    *,
    to: str = SUPPORT,
    mail_from: str = "ana@example.com",
    helo: str = "mx.sender.test",
) -> Any:
    """smtplib's sendmail; ``mail_from=""`` sends the null reverse-path ``MAIL FROM:<>``.
    Raises smtplib's errors on a refusal, as a sending MTA would see it."""
    raw = crlf(raw)  # smtplib fixes bare LFs only in str messages

    def go() -> Any:
        with smtplib.SMTP("127.0.0.1", port, local_hostname=helo, timeout=10) as client:
            return client.sendmail(mail_from, [to], raw)

    return await anyio.to_thread.run_sync(go)
