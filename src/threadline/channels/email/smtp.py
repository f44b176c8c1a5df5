"""The built-in SMTP server: the business's MX (or a relay) delivers mail here.

It answers 250 only after the message is durably stored with everything it
caused, and 451 if that failed, so the sending MTA keeps the message and
retries (RFC 5321 §4.2.1) instead of our losing it.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import anyio.to_thread
import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from threadline.actions.receipts import Payload
from threadline.bus import Bus
from threadline.channels.email.authn import DnsResolver, Resolver, Verdict, authenticate
from threadline.ports import Inbox

__all__ = ["InboundSmtpHandler", "start_smtp_server"]

log = structlog.get_logger(__name__)

# A recipient we do not know may be an inbox added since we last looked. Looking
# again at most this often keeps a spammer's dictionary attack from costing a
# database read per guessed address.
RELOAD_INTERVAL = 5.0
# Above this size the sender checks run in a worker process: dkimpy splits and
# joins the whole mail in C while holding the GIL (~0.6 s at 36 MB), a stall a
# thread cannot hide from the event loop.
PROCESS_BYTES = 1024 * 1024


@functools.cache
def _checker() -> ProcessPoolExecutor:
    # spawn, not fork: the parent runs threads (the database writer among them).
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


async def _check_sender(
    raw: bytes, ip: str | None, mail_from: str, helo: str | None, resolver: Resolver
) -> Verdict:
    check = functools.partial(
        authenticate, raw, ip=ip, mail_from=mail_from, helo=helo, resolver=resolver
    )
    try:
        if len(raw) <= PROCESS_BYTES:
            # DNS lookups block; a slow zone must not stall every other request.
            return await anyio.to_thread.run_sync(check)
        return await asyncio.get_running_loop().run_in_executor(_checker(), check)
    except Exception:
        # The checks must never cost us the mail (a 451 would repeat for ever):
        # store it unjudged, and start a fresh worker next time.
        log.exception("smtp.sender_check_failed")
        _checker.cache_clear()
        return Verdict("temperror", "temperror", "temperror")


def _split(address: str) -> tuple[str, str]:
    local, _, domain = address.strip().strip("<>").lower().rpartition("@")
    return local, domain


def envelope_sender(mail_from: str | None) -> str:
    """The reverse-path as the parser's rules expect it: "" for the null sender.

    aiosmtpd hands over ``MAIL FROM:<>`` as "<>"; left so, the null-sender rules
    for bounces and loops never fire.
    """
    value = (mail_from or "").strip()
    return "" if value.strip("<> ") == "" else value


class InboundSmtpHandler:
    def __init__(
        self,
        bus: Bus,
        *,
        resolver: Resolver | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bus = bus
        # None: we sit behind a relay that checks senders (and stamps Authentication-Results).
        self.resolver = resolver
        self._monotonic = monotonic
        self._reloaded_at: float | None = None

    async def _inbox_for(self, address: str, *, reload: bool = False) -> Inbox | None:
        found = _match(address, await self.bus.all_inboxes())
        if found is None and reload:
            now = self._monotonic()
            if self._reloaded_at is None or now - self._reloaded_at >= RELOAD_INTERVAL:
                self._reloaded_at = now
                await self.bus.reload_inboxes()
                found = _match(address, await self.bus.all_inboxes())
        return found

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if await self._inbox_for(address, reload=True) is None:
            # Refuse at RCPT time: we are not an open relay, and the sender learns at once.
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        mail_from = envelope_sender(envelope.mail_from)
        peer = str(session.peer[0]) if session.peer else None
        context: dict[str, Any] = {
            "mail_from": mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "peer": peer,
        }
        if self.resolver is not None:
            context["helo"] = session.host_name
            verdict = await _check_sender(raw, peer, mail_from, session.host_name, self.resolver)
            context["auth"] = verdict.as_context()
        seen: set[int] = set()
        try:
            # aiosmtpd holds the message already; this keeps a second one from
            # being parsed and stored beside it.
            async with self.bus.room_for(len(raw)):
                for rcpt in envelope.rcpt_tos:
                    inbox = await self._inbox_for(rcpt)
                    if inbox is None or inbox.id in seen:
                        continue
                    seen.add(inbox.id)
                    await self.bus.ingest(
                        Payload(inbox_id=inbox.id, source="email", body=raw, context=context)
                    )
        except Exception:
            log.exception("smtp.store_failed")
            return "451 4.3.0 Could not store the message; please try again later"
        return "250 OK: stored"


def _match(address: str, inboxes: list[Inbox]) -> Inbox | None:
    local, domain = _split(address)
    email_inboxes = [i for i in inboxes if i.channel == "email"]
    for inbox in email_inboxes:
        if inbox.address.lower() == f"{local}@{domain}":
            return inbox
    # reply+<token>@ and bounce+<token>@ addresses belong to the inbox of that domain
    if local.startswith(("reply+", "bounce+")):
        for inbox in email_inboxes:
            if _split(inbox.address)[1] == domain:
                return inbox
    return None


async def start_smtp_server(
    bus: Bus,
    host: str,
    port: int,
    *,
    max_bytes: int,
    check_senders: bool = True,
    resolver: Resolver | None = None,
    monotonic: Callable[[], float] = time.monotonic,
) -> asyncio.Server:
    """Serve SMTP on the running event loop (one process: web, SMTP and jobs).

    ``max_bytes`` is Settings.email_max_bytes: larger mail is refused with 552
    before we store it. ``check_senders`` evaluates SPF, DKIM and DMARC (through
    ``resolver``, the system's DNS by default) for when we are the MX.
    """
    handler = InboundSmtpHandler(
        bus,
        resolver=(resolver or DnsResolver()) if check_senders else None,
        monotonic=monotonic,
    )
    loop = asyncio.get_running_loop()

    def factory() -> Any:
        return SMTP(
            handler,
            data_size_limit=max_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=None,
            ident="Threadline ESMTP",
            loop=loop,
        )

    return await loop.create_server(factory, host=host, port=port)
