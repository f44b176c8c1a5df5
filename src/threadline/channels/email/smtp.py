"""The built-in SMTP server: the business's MX (or a relay) delivers mail here.

It answers 250 only after the message is durably stored with everything it
caused, and 451 if that failed, so the sending MTA keeps the message and
retries (RFC 5321 §4.2.1) instead of our losing it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from threadline.actions.receipts import Payload
from threadline.bus import Bus
from threadline.ports import Inbox

__all__ = ["InboundSmtpHandler", "start_smtp_server"]

log = structlog.get_logger(__name__)

MAX_MESSAGE_BYTES = 40 * 1024 * 1024  # attachments are limited to 25 MB; base64 adds a third


def _split(address: str) -> tuple[str, str]:
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    return local, domain


class InboundSmtpHandler:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def _inbox_for(self, address: str) -> Inbox | None:
        local, domain = _split(address)
        email_inboxes = [i for i in await self.bus.all_inboxes() if i.channel == "email"]
        for inbox in email_inboxes:
            if inbox.address.lower() == f"{local}@{domain}":
                return inbox
        # reply+<token>@ and bounce+<token>@ addresses belong to the inbox of that domain
        if local.startswith(("reply+", "bounce+")):
            for inbox in email_inboxes:
                if _split(inbox.address)[1] == domain:
                    return inbox
        return None

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if await self._inbox_for(address) is None:
            # Refuse at RCPT time: we are not an open relay, and the sender learns at once.
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        seen: set[int] = set()
        try:
            for rcpt in envelope.rcpt_tos:
                inbox = await self._inbox_for(rcpt)
                if inbox is None or inbox.id in seen:
                    continue
                seen.add(inbox.id)
                await self.bus.ingest(
                    Payload(
                        inbox_id=inbox.id,
                        source="email",
                        body=raw,
                        context={
                            "mail_from": envelope.mail_from or "",
                            "rcpt_tos": list(envelope.rcpt_tos),
                            "peer": str(session.peer[0]) if session.peer else None,
                        },
                    )
                )
        except Exception:
            log.exception("smtp.store_failed")
            return "451 4.3.0 Could not store the message; please try again later"
        return "250 OK: stored"


async def start_smtp_server(bus: Bus, host: str, port: int) -> asyncio.Server:
    """Serve SMTP on the running event loop (one process: web, SMTP and jobs)."""
    handler = InboundSmtpHandler(bus)
    loop = asyncio.get_running_loop()

    def factory() -> Any:
        return SMTP(
            handler,
            data_size_limit=MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=None,
            ident="Threadline ESMTP",
            loop=loop,
        )

    return await loop.create_server(factory, host=host, port=port)
