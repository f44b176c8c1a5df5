"""The Telegram webhook: one Bot API Update per POST, for the inbox in the URL.

Telegram signs nothing; it sends back the ``secret_token`` given to setWebhook
in ``X-Telegram-Bot-Api-Secret-Token``, so that header is the only proof a
request came from Telegram. An inbox without a secret token accepts nothing:
its URL alone is guessable.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath

from threadline.actions.receipts import Payload
from threadline.bus import UnknownInbox
from threadline.web.webhooks.common import container_of

__all__ = ["ROUTES"]

SECRET_HEADER = "x-telegram-bot-api-secret-token"  # noqa: S105 (a header name)


@post(
    "/webhooks/telegram/{inbox_id:int}",
    status_code=200,
    summary="Receive a Telegram Bot API update",
)
async def telegram_webhook(
    request: Request[Any, Any, Any], inbox_id: FromPath[int]
) -> dict[str, Any]:
    bus = container_of(request).bus
    try:
        inbox = await bus.inbox(inbox_id)
    except UnknownInbox as exc:
        raise NotFoundException(str(exc)) from exc
    if inbox.channel != "telegram":
        raise NotFoundException(f"inbox {inbox_id} is not a Telegram inbox")
    secret = str(inbox.config.get("secret_token") or "")
    given = request.headers.get(SECRET_HEADER, "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        raise PermissionDeniedException("bad or missing X-Telegram-Bot-Api-Secret-Token")
    body = await request.body()
    # Telegram repeats any update not answered with 2xx; the receipt keyed on
    # update_id makes each repeat harmless, and a quarantined one is kept too.
    await bus.ingest_all(Payload(inbox.id, "telegram", body, {}))
    return {"ok": True}


ROUTES = [telegram_webhook]
