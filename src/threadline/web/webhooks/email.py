"""Provider webhooks. The email one takes a raw RFC 5322 message from a
forwarding service, signed with the inbox's webhook secret."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Request, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import FromPath

from threadline.actions.receipts import Payload
from threadline.bootstrap import Container
from threadline.bus import PROCESS_BYTES, UnknownInbox
from threadline.channels.email.signature import EmailTooLarge, SignedEmailBody

__all__ = ["ROUTES"]


@post(
    "/webhooks/email/{inbox_id:int}",
    status_code=200,
    # Litestar's own cap is a constant; ours comes from the settings (below).
    request_max_body_size=None,
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
    secret = str(inbox.config.get("webhook_secret") or "")
    with SignedEmailBody(secret, container.settings.email_max_bytes) as signed:
        try:
            signed.announce(request.content_length)
            async for chunk in request.stream():
                signed.write(chunk)
        except EmailTooLarge as exc:
            raise RequestEntityTooLarge(str(exc)) from exc
        if not signed.is_signed(request.headers.get("x-threadline-signature", "")):
            raise PermissionDeniedException("bad or missing X-Threadline-Signature")
        rcpt = request.headers.get("x-envelope-to")
        context = {
            "mail_from": request.headers.get("x-envelope-from"),
            "rcpt_tos": [rcpt] if rcpt else [],
        }
        root = container.bus.cfg.attachment_dir
        # The spool holds the body on disk until there is room for it in memory.
        async with container.bus.room_for(signed.size):
            if root is not None and signed.size > PROCESS_BYTES:
                # Parsed in a process of its own anyway: the spool goes straight to
                # the file store, where that process reads it, and the server never
                # holds it whole (36 MiB, and a copy while it was hashed).
                digest = await anyio.to_thread.run_sync(signed.keep, root)
                payload = Payload(inbox.id, "email", b"", context, stored=digest, size=signed.size)
            else:
                body = await anyio.to_thread.run_sync(signed.read)
                payload = Payload(inbox.id, "email", body, context)
                del body
            outcome = await container.bus.ingest(payload)
            del payload
    return {"receipt_id": outcome.receipt_id, "status": outcome.status}


ROUTES = [email_webhook]
