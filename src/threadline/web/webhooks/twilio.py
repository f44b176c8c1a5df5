"""Twilio Messaging webhooks: inbound SMS/MMS and delivery status callbacks.

Twilio signs each request with the account's auth token (X-Twilio-Signature);
the inbox is found by our own number (``To`` on inbound, ``From`` on a status
callback), and its config holds that token. Twilio retries a request that
failed or timed out; the receipt keyed by MessageSid (or sid and status) makes
each retry harmless.
"""

from __future__ import annotations

import contextlib
from typing import Any

from litestar import Request, Response, post
from litestar.exceptions import PermissionDeniedException

from threadline.actions.receipts import Payload
from threadline.channels.twilio.signature import is_valid_signature
from threadline.channels.twilio.sms import form_params
from threadline.core.identity import InvalidIdentity, normalize_phone
from threadline.ports import Inbox
from threadline.web.webhooks.common import container_of, inbox_by_address, signed_url

__all__ = ["ROUTES"]

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


async def _verified(request: Request[Any, Any, Any], number_field: str) -> tuple[Inbox, bytes, str]:
    """The inbox the request is for, once Twilio's signature over it checks out."""
    body = await request.body()
    params = form_params(body)
    number = next((value for name, value in params if name == number_field), "")
    # A number we cannot normalize is looked up as sent, and answered 404.
    with contextlib.suppress(InvalidIdentity):
        number = normalize_phone(number)
    inbox = await inbox_by_address(request, ("sms",), number)
    url = signed_url(request)
    signature = request.headers.get("x-twilio-signature", "")
    token = str(inbox.config.get("auth_token") or "")
    if not is_valid_signature(token, url, params, signature):
        raise PermissionDeniedException("bad or missing X-Twilio-Signature")
    return inbox, body, url


@post("/webhooks/twilio/sms", status_code=200, summary="Receive an SMS or MMS from Twilio")
async def twilio_sms(request: Request[Any, Any, Any]) -> Response[str]:
    inbox, body, url = await _verified(request, "To")
    await container_of(request).bus.ingest_all(Payload(inbox.id, "twilio_sms", body, {"url": url}))
    # Empty TwiML: Twilio sends nothing back; replies go out through the API.
    return Response(EMPTY_TWIML, media_type="text/xml", status_code=200)


@post(
    "/webhooks/twilio/status",
    status_code=204,
    summary="Receive a Twilio delivery status callback for an SMS we sent",
)
async def twilio_status(request: Request[Any, Any, Any]) -> None:
    inbox, body, url = await _verified(request, "From")
    await container_of(request).bus.ingest_all(
        Payload(inbox.id, "twilio_status", body, {"url": url})
    )


ROUTES = [twilio_sms, twilio_status]
