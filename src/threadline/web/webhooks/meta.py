"""Meta's one webhook for WhatsApp, Messenger and Instagram: the ``hub.*``
subscription handshake (GET) and signed event batches (POST).

A Meta app has one callback URL for all its numbers and pages, so the inbox is
found inside the payload: the WhatsApp phone number id, or the page / Instagram
account id. Meta retries anything but a 200 for days; the per-event receipt
keys make each retry harmless.
"""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response, get, post
from litestar.enums import MediaType
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException

from threadline.actions.receipts import Payload
from threadline.channels.meta.parse import addresses_of, load_webhook
from threadline.channels.meta.signature import handshake_challenge, signature_valid
from threadline.ports import Inbox
from threadline.web.webhooks.common import container_of, inbox_by_address

__all__ = ["ROUTES"]

log = structlog.get_logger(__name__)

META_CHANNELS = ("whatsapp", "messenger", "instagram")


@get(
    "/webhooks/meta",
    media_type=MediaType.TEXT,
    summary="Meta's webhook verification handshake (hub.mode=subscribe)",
)
async def meta_handshake(request: Request[Any, Any, Any]) -> Response[str]:
    params = {k: str(v) for k, v in request.query_params.items()}
    bus = container_of(request).bus
    for attempt in range(2):
        tokens = [
            str(inbox.config.get("verify_token") or "")
            for inbox in await bus.all_inboxes()
            if inbox.channel in META_CHANNELS
        ]
        challenge = handshake_challenge(params, tokens)
        if challenge is not None:
            return Response(challenge, media_type=MediaType.TEXT)
        if attempt == 0:
            await bus.reload_inboxes()  # an inbox added by another process since we cached
    raise PermissionDeniedException("hub.verify_token matches no Meta inbox")


@post(
    "/webhooks/meta",
    status_code=200,
    summary="Receive WhatsApp, Messenger and Instagram events from Meta (signed)",
)
async def meta_webhook(request: Request[Any, Any, Any]) -> dict[str, Any]:
    raw = await request.body()
    try:
        channels, addresses = addresses_of(load_webhook(raw))
    except ValueError as exc:
        # Quarantine needs an inbox, and only the payload names it; a body we
        # cannot read names none (and Meta never sends one). Refuse it instead.
        raise ClientException(f"not a Meta webhook payload: {exc}") from exc
    inboxes: list[Inbox] = []
    for address in addresses:
        try:
            inboxes.append(await inbox_by_address(request, channels, address))
        except NotFoundException:
            log.warning("meta.unknown_address", address=address, channels=channels)
    if not inboxes:
        raise NotFoundException(f"no {'/'.join(channels) or 'Meta'} inbox for this payload")
    # Each inbox checks with its own app secret: a batch is accepted only when
    # every inbox it is for can prove Meta sent it.
    header = request.headers.get("x-hub-signature-256")
    for inbox in inboxes:
        if not signature_valid(str(inbox.config.get("app_secret") or ""), raw, header):
            raise PermissionDeniedException("bad or missing X-Hub-Signature-256")
    bus = container_of(request).bus
    outcomes = []
    for inbox in inboxes:
        # The parser keeps only this inbox's events from a mixed batch.
        outcomes += await bus.ingest_all(Payload(inbox.id, "meta", raw, {}))
    return {"received": len(outcomes), "statuses": [o.status for o in outcomes]}


ROUTES = [meta_handshake, meta_webhook]
