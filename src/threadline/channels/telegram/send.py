"""Telegram replies: the Bot API's sendMessage, addressed to the customer's user id,
then one sendPhoto or sendDocument per file, uploaded as multipart.

In a private chat the chat id is the user id, which is the telegram identity
we store, so a reply needs nothing else. The Bot API has no idempotency key
and no delivery receipts: a message is ``sent`` once Telegram returns it (a
retry after a failed file sends the text again). The provider id is the text's.
"""

from __future__ import annotations

from typing import Any

import httpx

from threadline.channels.registry import SenderContext
from threadline.core.model import DeliveryError, OutboundFile, OutboundMessage
from threadline.ports import Inbox

__all__ = ["API_BASE", "MAX_TEXT", "TelegramSender", "api_base"]

API_BASE = "https://api.telegram.org"
MAX_TEXT = 4096  # sendMessage refuses longer texts ("message is too long")
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
MAX_PHOTO_BYTES = 10 * 1024 * 1024


def api_base(inbox: Inbox, sandbox_base: str) -> str:
    if inbox.config.get("sandbox"):
        return f"{sandbox_base.rstrip('/')}/telegram"
    return str(inbox.config.get("api_base") or API_BASE).rstrip("/")


def _chat_id(recipient: str) -> int | str:
    # Telegram takes an integer id or an "@channel" name; send ids as integers.
    try:
        return int(recipient)
    except ValueError:
        return recipient


def _answer(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class TelegramSender:
    def __init__(self, context: SenderContext) -> None:
        self.http = context.http
        self.sandbox_base = context.sandbox_base

    async def send(self, inbox: Inbox, message: OutboundMessage) -> str | None:
        token = str(inbox.config.get("bot_token") or "")
        if not token:
            raise DeliveryError("the Telegram inbox has no bot_token configured", permanent=True)
        if not message.recipient:
            raise DeliveryError("no Telegram user id to send to", permanent=True)
        # send_reply refuses these before they are queued; a message queued
        # under older limits must still fail visibly rather than be retried.
        if not message.text.strip():
            raise DeliveryError("Telegram does not send empty messages", permanent=True)
        if len(message.text) > MAX_TEXT:
            raise DeliveryError(
                f"Telegram accepts at most {MAX_TEXT:,} characters; "
                f"this reply has {len(message.text):,}",
                permanent=True,
            )
        base = f"{api_base(inbox, self.sandbox_base)}/bot{token}"
        chat_id = _chat_id(message.recipient)
        result = await self._call(
            token, f"{base}/sendMessage", json={"chat_id": chat_id, "text": message.text}
        )
        for f in message.attachments:
            method, field = _upload_method(f)
            await self._call(
                token,
                f"{base}/{method}",
                data={"chat_id": str(chat_id)},
                files={field: (f.filename, f.data, f.content_type)},
            )
        chat = result.get("chat")
        sent_to = chat.get("id") if isinstance(chat, dict) else None
        message_id = result.get("message_id")
        if message_id is None:
            return None
        return f"tg:{sent_to if sent_to is not None else message.recipient}:{message_id}"

    async def _call(self, token: str, url: str, **request: Any) -> dict[str, Any]:
        """One Bot API call: its ``result``, or a DeliveryError in Telegram's words."""
        try:
            response = await self.http.post(url, **request)
        except httpx.HTTPError as exc:
            # The token is part of the URL; keep it out of the stored error.
            detail = str(exc).replace(token, "<token>") or type(exc).__name__
            raise DeliveryError(f"could not reach the Telegram Bot API: {detail}") from exc
        answer = _answer(response)
        description = str(answer.get("description") or f"HTTP {response.status_code}")
        status = response.status_code
        if status == 429:
            parameters = answer.get("parameters")
            retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
            wait = f"; Telegram asks to retry after {retry_after} s" if retry_after else ""
            raise DeliveryError(f"Telegram flood limit: {description}{wait}")
        if status >= 500:
            raise DeliveryError(f"Telegram answered {status}: {description}; will retry")
        if status in (401, 404):
            # An unknown or malformed token: no retry can fix it.
            raise DeliveryError(
                f"Telegram refused the bot token ({description}); check the inbox's bot_token",
                permanent=True,
            )
        if status >= 400:
            raise DeliveryError(f"Telegram refused the message: {description}", permanent=True)
        result = answer.get("result")
        if answer.get("ok") is not True or not isinstance(result, dict):
            # Retrying could send it twice; fail visibly so an agent decides.
            raise DeliveryError(
                f"unexpected answer from Telegram ({status}); the message may have been sent",
                permanent=True,
            )
        return result


def _upload_method(f: OutboundFile) -> tuple[str, str]:
    """sendPhoto shows a picture in the chat (Telegram recompresses it); the rest,
    and photos past its 10 MB, go as documents, byte for byte."""
    if f.content_type in PHOTO_TYPES and f.size <= MAX_PHOTO_BYTES:
        return "sendPhoto", "photo"
    return "sendDocument", "document"
