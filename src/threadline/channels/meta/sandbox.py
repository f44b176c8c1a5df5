"""A local stand-in for the Graph API's send endpoints, for inboxes in sandbox mode.

``POST /sandbox/meta/v{version}/{node_id}/messages`` answers as Meta does:
the WhatsApp Cloud API shape when the body says ``messaging_product:
whatsapp``, the Messenger/Instagram Send API shape otherwise. It checks what
Graph checks first (a bearer token, the required parameters), answers errors in
Graph's ``{"error": {...}}`` shape, and keeps what it accepted in the sandbox
outbox, where the customer simulator shows it.
"""

from __future__ import annotations

import secrets
from typing import Any

import orjson
from litestar import Request, Response, post
from litestar.params import FromPath

from threadline.bus import Bus
from threadline.channels.sandbox_auth import same, sandbox_inbox
from threadline.storage.db import Tx
from threadline.storage.tables import sandbox_outbox

__all__ = ["ROUTES", "graph_send", "record_send"]


def record_send(
    tx: Tx, *, recipient: str, provider_message_id: str, request: dict[str, Any], text: str
) -> None:
    tx.conn.execute(
        sandbox_outbox.insert(),
        {
            "provider": "meta",
            "recipient": recipient,
            "provider_message_id": provider_message_id,
            "request": request,
            "text": text,
            "created_at": tx.now,
        },
    )


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _error(message: str, code: int = 100, status: int = 400) -> Response[dict[str, Any]]:
    return Response(
        {
            "error": {
                "message": message,
                "type": "OAuthException",
                "code": code,
                "fbtrace_id": "A" + secrets.token_urlsafe(16),
            }
        },
        status_code=status,
    )


def _whatsapp(body: dict[str, Any]) -> tuple[str, str] | Response[dict[str, Any]]:
    """The recipient and the text the phone would show, or Graph's complaint."""
    to = body.get("to")
    if not to:
        return _error("(#100) The parameter to is required.")
    kind = body.get("type", "text")
    content = _obj(body.get(kind))
    if kind == "text":
        if not content.get("body"):
            return _error("(#100) The parameter text['body'] is required.")
        return str(to), str(content["body"])
    if kind == "template":
        if not content.get("name"):
            return _error("(#100) The parameter template['name'] is required.")
        if not _obj(content.get("language")).get("code"):
            return _error("(#100) The parameter template['language']['code'] is required.")
        values = [
            str(p.get("text"))
            for c in content.get("components") or ()
            for p in _obj(c).get("parameters") or ()
            if isinstance(p, dict)
        ]
        return str(to), " ".join([f"[template {content['name']}]", *values])
    if kind in _WHATSAPP_MEDIA:
        # Graph wants an uploaded media id or a link it can fetch.
        link = content.get("link")
        if not content.get("id") and not _fetchable(link):
            return _error(f"(#100) Param {kind} must contain either id or a valid link")
        name = content.get("filename") or link or content.get("id")
        return str(to), f"[{kind}] {name}"
    return str(to), f"[{kind}]"


_WHATSAPP_MEDIA = ("image", "document", "audio", "video", "sticker")
_PAGE_ATTACHMENTS = ("image", "video", "audio", "file")


def _fetchable(url: Any) -> bool:
    return isinstance(url, str) and url.startswith(("https://", "http://"))


def _page(body: dict[str, Any]) -> tuple[str, str] | Response[dict[str, Any]]:
    recipient = _obj(body.get("recipient"))
    if not recipient.get("id"):
        return _error("(#100) The parameter recipient is required")
    message = _obj(body.get("message"))
    if not message.get("text") and not message.get("attachment"):
        return _error("(#100) The parameter message is required")
    attachment = _obj(message.get("attachment"))
    if attachment and attachment.get("type") != "template":
        url = _obj(attachment.get("payload")).get("url")
        if attachment.get("type") not in _PAGE_ATTACHMENTS:
            return _error("(#100) Invalid attachment type")
        if not _fetchable(url):
            return _error("(#100) Invalid attachment url")
        return str(recipient["id"]), f"[{attachment['type']}] {url}"
    return str(recipient["id"]), str(message.get("text") or "[attachment]")


@post(
    "/sandbox/meta/{version:str}/{node_id:str}/messages",
    status_code=200,
    include_in_schema=False,
)
async def graph_send(
    request: Request[Any, Any, Any], version: FromPath[str], node_id: FromPath[str]
) -> Response[dict[str, Any]]:
    if not version.startswith("v"):
        return _error(f"Unknown path components: /{version}/{node_id}/messages", 2500)
    token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not token or not request.headers.get("authorization", "").startswith("Bearer "):
        return _error("An access token is required to request this resource.", 104)
    held = await sandbox_inbox(
        request,
        ("whatsapp", "messenger", "instagram"),
        lambda i: same(token, i.config.get("access_token")),
    )
    if held is None:
        return _error("Invalid OAuth access token - Cannot parse access token", 190, 401)
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return _error("(#100) The request body is not valid JSON")
    if not isinstance(body, dict):
        return _error("(#100) The request body must be a JSON object")
    whatsapp = body.get("messaging_product") == "whatsapp"
    if not whatsapp and "to" in body:
        return _error("(#100) The parameter messaging_product is required.")
    checked = _whatsapp(body) if whatsapp else _page(body)
    if isinstance(checked, Response):
        return checked
    recipient, text = checked
    if whatsapp:
        pid = "wamid." + secrets.token_urlsafe(36)
        sent: dict[str, Any] = {"id": pid}
        if body.get("type") == "template":
            sent["message_status"] = "accepted"
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": recipient, "wa_id": recipient}],
            "messages": [sent],
        }
    else:
        pid = "m_" + secrets.token_urlsafe(48)
        answer = {"recipient_id": recipient, "message_id": pid}
    bus: Bus = request.app.state.container.bus
    await bus.execute(
        lambda tx: record_send(
            tx, recipient=recipient, provider_message_id=pid, request=body, text=text
        )
    )
    return Response(answer, status_code=200)


ROUTES = [graph_send]
