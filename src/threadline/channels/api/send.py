"""API channel replies: pushed to the business's webhook, signed, when one is set.

Body: {"message_id", "conversation_id", "recipient", "text", "html",
"attachments"} as JSON, each attachment {"filename", "content_type", "size",
"url"}: the url is a signed link to the file that works for 24 hours;
header ``X-Threadline-Signature: sha256=<hex HMAC-SHA256 of the body>`` with the
inbox's ``webhook_secret``, so the receiver can check it came from us.
"""

from __future__ import annotations

import hashlib
import hmac

import httpx
import orjson

from threadline.channels.registry import SenderContext
from threadline.core.model import DeliveryError, OutboundMessage
from threadline.ports import Inbox

__all__ = ["ApiWebhookSender"]


class ApiWebhookSender:
    def __init__(self, context: SenderContext) -> None:
        self.http = context.http

    async def send(self, inbox: Inbox, message: OutboundMessage) -> str | None:
        url = inbox.config.get("webhook_url")
        if not url:
            raise DeliveryError(
                "the API inbox has no webhook_url to push replies to", permanent=True
            )
        body = orjson.dumps(
            {
                "message_id": message.message_id,
                "conversation_id": message.conversation_id,
                "recipient": message.recipient or None,
                "text": message.text,
                "html": message.html,
                "attachments": [
                    {
                        "filename": f.filename,
                        "content_type": f.content_type,
                        "size": f.size,
                        "url": f.url,
                    }
                    for f in message.attachments
                ],
            }
        )
        secret = str(inbox.config.get("webhook_secret") or "").encode()
        signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
        try:
            response = await self.http.post(
                str(url),
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Threadline-Signature": f"sha256={signature}",
                    "Idempotency-Key": f"threadline-message-{message.message_id}",
                },
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"could not reach {url}: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise DeliveryError(f"{url} answered {response.status_code}; will retry")
        if response.status_code >= 400:
            raise DeliveryError(f"{url} refused the reply: {response.status_code}", permanent=True)
        return f"api:{message.message_id}"
