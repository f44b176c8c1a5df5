"""Provider webhooks. The email one takes a raw RFC 5322 message from a
forwarding service, signed with the inbox's webhook secret."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from litestar import Request, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath

from threadline.actions.receipts import Payload
from threadline.bootstrap import Container
from threadline.bus import UnknownInbox

__all__ = ["ROUTES"]

MAX_EMAIL_BYTES = 40 * 1024 * 1024


@post(
    "/webhooks/email/{inbox_id:int}",
    status_code=200,
    request_max_body_size=MAX_EMAIL_BYTES,
    summary="Receive a raw email (message/rfc822) from a forwarding service",
)
async def email_webhook(
    request: Request[Any, Any, State], inbox_id: FromPath[int]
) -> dict[str, Any]:
    container: Container = request.app.state.container
    try:
        inbox = await container.bus.inbox(inbox_id)
    except UnknownInbox as exc:
        raise NotFoundException(str(exc)) from exc
    if inbox.channel != "email":
        raise NotFoundException(f"inbox {inbox_id} is not an email inbox")
    body = await request.body()
    secret = str(inbox.config.get("webhook_secret") or "")
    given = request.headers.get("x-threadline-signature", "").removeprefix("sha256=")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    if not secret or not hmac.compare_digest(given, expected):
        raise PermissionDeniedException("bad or missing X-Threadline-Signature")
    rcpt = request.headers.get("x-envelope-to")
    context = {
        "mail_from": request.headers.get("x-envelope-from"),
        "rcpt_tos": [rcpt] if rcpt else [],
    }
    outcome = await container.bus.ingest(Payload(inbox.id, "email", body, context))
    return {"receipt_id": outcome.receipt_id, "status": outcome.status}


ROUTES = [email_webhook]
