"""Replies through Meta's Graph API: the WhatsApp Cloud API, and the Send API of
Messenger and Instagram.

WhatsApp: ``POST {base}/v26.0/{phone_number_id}/messages`` with the system-user
token; a free-form text inside the 24-hour window, an approved template outside
it (actions/replies.py refuses the rest before anything is queued). Messenger
and Instagram: ``POST {base}/v25.0/{page or IG account id}/messages``.

Files go as media messages after the text, one per file, each a ``link`` to
our signed /media/ URL that Meta fetches (WhatsApp ``image``/``document``/…,
Messenger and Instagram an ``attachment`` payload ``url``). The provider id we
keep is the text's.

Graph has no idempotency key: a request that timed out after Meta accepted it
is sent again on retry, and so is the text when a later file failed. That is
the rare double the job queue cannot rule out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
import orjson

from threadline.channels.meta.parse import graph_error_text
from threadline.channels.registry import SenderContext
from threadline.core.model import DeliveryError, OutboundFile, OutboundMessage
from threadline.ports import Inbox

__all__ = [
    "InstagramSender",
    "MessengerSender",
    "WhatsAppSender",
    "graph_failure",
    "page_media_body",
    "whatsapp_body",
    "whatsapp_media_body",
]

GRAPH = "https://graph.facebook.com"
INSTAGRAM_GRAPH = "https://graph.instagram.com"

# Throttling, not refusal: app (4), user (17), page (32) and hourly (613) call
# limits, Messenger's 80007, WhatsApp's throughput (130429) and pair (131056)
# limits. Everything else in 4xx (131047 outside the window, 131026
# undeliverable, 10/200 permissions, 190 bad token, 100 bad parameter) will
# fail the same way on every retry.
_RATE_LIMITS = frozenset({4, 17, 32, 613, 80007, 130429, 131056})


def graph_failure(product: str, status_code: int, data: Mapping[str, Any]) -> DeliveryError:
    """A Graph error response as a DeliveryError, in Meta's own words."""
    raw = data.get("error")
    error: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    reason = graph_error_text(error, product) if error else f"HTTP {status_code}"
    if (
        status_code == 429
        or status_code >= 500
        or error.get("code") in _RATE_LIMITS
        or error.get("is_transient") is True
    ):
        return DeliveryError(f"{product} is busy or rate-limiting: {reason}; will retry")
    return DeliveryError(f"{product} refused the message: {reason}", permanent=True)


class _GraphSender:
    product: ClassVar[str]
    version: ClassVar[str]

    def __init__(self, context: SenderContext) -> None:
        self.http = context.http
        self.sandbox_base = context.sandbox_base.rstrip("/")

    def base(self, inbox: Inbox) -> str:
        if inbox.config.get("sandbox"):
            return f"{self.sandbox_base}/meta"
        return str(inbox.config.get("api_base") or self.default_base(inbox)).rstrip("/")

    def default_base(self, inbox: Inbox) -> str:
        return GRAPH

    def node(self, inbox: Inbox) -> str:
        return str(inbox.config.get("page_id") or inbox.address)

    async def post(self, inbox: Inbox, body: Mapping[str, Any]) -> dict[str, Any]:
        # The sandbox only checks that a token is there, as Graph does first.
        sandbox = "sandbox" if inbox.config.get("sandbox") else ""
        token = inbox.config.get("access_token") or sandbox
        if not token:
            raise DeliveryError(
                f"the {inbox.channel} inbox has no access_token to send with", permanent=True
            )
        url = f"{self.base(inbox)}/{self.version}/{self.node(inbox)}/messages"
        try:
            response = await self.http.post(
                url,
                content=orjson.dumps(body),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise DeliveryError(f"could not reach {self.product}: {exc}") from exc
        try:
            data = orjson.loads(response.content) if response.content else {}
        except orjson.JSONDecodeError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if response.is_success:
            return data
        raise graph_failure(self.product, response.status_code, data)


class WhatsAppSender(_GraphSender):
    product = "WhatsApp"
    version = "v26.0"

    def node(self, inbox: Inbox) -> str:
        return str(inbox.config.get("phone_number_id") or inbox.address)

    async def send(self, inbox: Inbox, message: OutboundMessage) -> str | None:
        if not message.recipient:
            raise DeliveryError("the customer has no WhatsApp id to send to", permanent=True)
        data = await self.post(inbox, whatsapp_body(message))
        for f in message.attachments:
            await self.post(inbox, whatsapp_media_body(message.recipient, f))
        sent = data.get("messages")
        if isinstance(sent, list) and sent and isinstance(sent[0], dict) and sent[0].get("id"):
            return str(sent[0]["id"])
        return None


def whatsapp_body(message: OutboundMessage) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.recipient,
    }
    template = message.template
    if template is None:
        body["type"] = "text"
        body["text"] = {"body": message.text, "preview_url": False}
        return body
    parameters = [{"type": "text", "text": str(p)} for p in template.get("parameters") or ()]
    spec: dict[str, Any] = {
        "name": str(template["name"]),
        "language": {"code": str(template.get("language") or "en")},
    }
    if parameters:
        spec["components"] = [{"type": "body", "parameters": parameters}]
    body["type"] = "template"
    body["template"] = spec
    return body


def whatsapp_media_body(recipient: str, f: OutboundFile) -> dict[str, Any]:
    """A media message: images and video play in the chat, anything else is a document."""
    kind = "document"
    if f.content_type in ("image/jpeg", "image/png"):
        kind = "image"
    elif f.content_type.startswith(("audio/", "video/")):
        kind = f.content_type.partition("/")[0]
    media: dict[str, Any] = {"link": f.url}
    if kind == "document":
        media["filename"] = f.filename
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": recipient,
        "type": kind,
        kind: media,
    }


def page_media_body(recipient: str, f: OutboundFile) -> dict[str, Any]:
    """Messenger and Instagram: an attachment Meta downloads from ``url``."""
    kind = f.content_type.partition("/")[0]
    return {
        "recipient": {"id": recipient},
        "messaging_type": "RESPONSE",
        "message": {
            "attachment": {
                "type": kind if kind in ("image", "video", "audio") else "file",
                "payload": {"url": f.url, "is_reusable": False},
            }
        },
    }


class MessengerSender(_GraphSender):
    product = "Messenger"
    version = "v25.0"

    async def send(self, inbox: Inbox, message: OutboundMessage) -> str | None:
        if not message.recipient:
            raise DeliveryError(f"the customer has no {self.product} id to send to", permanent=True)
        # RESPONSE: a reply inside the 24-hour window. Not done: the HUMAN_AGENT
        # tag that allows agent replies up to 7 days (needs Meta's approval).
        data = await self.post(
            inbox,
            {
                "recipient": {"id": message.recipient},
                "messaging_type": "RESPONSE",
                "message": {"text": message.text},
            },
        )
        for f in message.attachments:
            await self.post(inbox, page_media_body(message.recipient, f))
        return str(data["message_id"]) if data.get("message_id") else None


class InstagramSender(MessengerSender):
    """Instagram through a linked Facebook Page (config ``page_id``, the Messenger
    API for Instagram on graph.facebook.com), or with Instagram Login
    (graph.instagram.com, addressed by the IG account id)."""

    product = "Instagram"

    def default_base(self, inbox: Inbox) -> str:
        return GRAPH if inbox.config.get("page_id") else INSTAGRAM_GRAPH
