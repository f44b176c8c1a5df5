"""The bus: runs actions in a transaction, then their events' handlers.

Also the inbound entry point every edge calls: ``ingest`` parses a payload
(off the event loop when that is costly), stores it durably with its effects,
and quarantines it when it cannot be used. ``replay`` runs a quarantined
receipt again.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import sqlalchemy as sa
import structlog

from threadline.actions.config import ActionConfig
from threadline.actions.errors import ActionError, NotFound
from threadline.actions.inboxes import load_inbox
from threadline.actions.receipts import (
    Payload,
    ReceiptOutcome,
    process_payloads,
    quarantine_payload,
    reprocess_receipt,
)
from threadline.core.model import CallEvent, Ignored, InboundMessage, ParseResult, PayloadError
from threadline.handlers import HANDLERS, HandlerDeps
from threadline.offload import ProcessParser
from threadline.ports import Inbox, Parser
from threadline.storage.db import Database, StorageUnavailable, Tx
from threadline.storage.files import file_path, put_file, read_stored
from threadline.storage.tables import inbound_receipts, inboxes

__all__ = ["Bus", "StorageUnavailable", "UnknownInbox"]

log = structlog.get_logger(__name__)
T = TypeVar("T")
OFFLOAD_BYTES = 64 * 1024  # ~10 ms of email parsing; smaller payloads parse on the loop
# Past this a parse takes long enough (a 36 MiB email: seconds) that sharing the GIL
# with the loop would stall every request: it runs in a process of its own.
PROCESS_BYTES = 1024 * 1024


class UnknownInbox(LookupError):
    pass


class Bus:
    def __init__(
        self,
        db: Database,
        cfg: ActionConfig,
        parsers: Mapping[str, Parser],
        deps: HandlerDeps,
    ) -> None:
        self.db = db
        self.cfg = cfg
        self.parsers = parsers
        self.deps = deps
        self._inboxes: dict[int, Inbox] = {}
        self.heavy = ProcessParser(attachment_dir=cfg.attachment_dir)
        # One large payload in memory at a time: a 36 MiB email is held as its bytes,
        # its parse and its stored copy at once, and two of them took the server
        # past 500 MB. Its parse runs in the one worker process anyway.
        self._large = anyio.Semaphore(1)

    def close(self) -> None:
        self.heavy.close()

    # -- actions -----------------------------------------------------------------
    async def execute(self, fn: Callable[[Tx], T], *, key: str | None = None) -> T:
        result, events = await self.db.write(fn, key=key)
        await self.dispatch(events)
        return result

    async def dispatch(self, events: list[Any]) -> None:
        for event in events:
            for handler in HANDLERS.get(type(event), ()):
                try:
                    await handler(event, self.deps)
                except Exception:
                    # The action is committed; a failed push must not turn the
                    # provider's 200 into a retry that would be a duplicate.
                    log.exception("handler.failed", handler=handler.__qualname__, event=event)

    # -- inboxes -----------------------------------------------------------------
    async def inbox(self, inbox_id: int) -> Inbox:
        found = self._inboxes.get(inbox_id)
        if found is None:
            await self.reload_inboxes()
            found = self._inboxes.get(inbox_id)
        if found is None:
            raise UnknownInbox(f"inbox {inbox_id} does not exist")
        return found

    async def all_inboxes(self) -> list[Inbox]:
        if not self._inboxes:
            await self.reload_inboxes()
        return list(self._inboxes.values())

    async def reload_inboxes(self) -> None:
        try:
            rows = await self.db.read(lambda c: c.execute(sa.select(inboxes)).all())
        except Exception as exc:
            # Without its inbox a payload can be neither stored nor quarantined:
            # the edge answers 503/451 and the provider retries.
            raise StorageUnavailable(f"cannot read the inboxes: {exc}") from exc
        self._inboxes = {r.id: load_inbox(r, self.cfg.secret_key) for r in rows}

    # -- the inbound path --------------------------------------------------------
    @contextlib.asynccontextmanager
    async def room_for(self, size: int) -> AsyncIterator[None]:
        """Hold this while a payload of ``size`` bytes is in memory, from reading it to
        its ingest: a large one waits for the one before it to be stored."""
        if size <= PROCESS_BYTES:
            yield
            return
        async with self._large:
            yield

    async def _parse(
        self,
        inbox: Inbox,
        source: str,
        body: bytes,
        ctx: Mapping[str, Any],
        stored: str | None = None,
        size: int | None = None,
    ) -> list[ParseResult]:
        """``stored``: the body's SHA-256 in the file store, where the worker process
        reads it; ``body`` may then be empty (``size`` bytes are in the file)."""
        parser = self.parsers[source]
        parsed: ParseResult | Sequence[ParseResult]
        root = self.cfg.attachment_dir
        path = file_path(root, stored) if root is not None and stored else None
        length = len(body) if size is None else size
        in_process = parser.offload and length > PROCESS_BYTES
        if path is not None and len(body) != length and not in_process:
            # Only in the file store, and parsed here: read it.
            body = await anyio.to_thread.run_sync(path.read_bytes)
        # A worker thread adds no parallelism (parsing holds the GIL), only a
        # hop: worth it only when a big payload would stall the loop.
        if in_process:
            parsed = await self.heavy.parse(parser, inbox, body, ctx, path=path)
        elif parser.offload and len(body) > OFFLOAD_BYTES:
            parsed = await anyio.to_thread.run_sync(parser, inbox, body, ctx)
        else:
            parsed = parser(inbox, body, ctx)
        if isinstance(parsed, Sequence):
            return list(parsed) or [Ignored("the payload carried nothing we handle")]
        return [parsed]

    async def ingest(
        self,
        payload: Payload,
        parsed: ParseResult | None = None,
        *,
        also: Callable[[Tx], None] | None = None,
    ) -> ReceiptOutcome:
        """Store a payload and everything it causes; return once it is durable.

        ``parsed`` lets an edge that already had to parse (to answer 422 to an
        API caller) skip a second parse. ``also`` runs in the same transaction,
        for an edge's own bookkeeping (the IMAP poller's last UID), so the two
        can never disagree after a crash. For a payload that carries several
        events, this returns the first outcome; see ``ingest_all``.
        """
        outcomes = await self.ingest_all(payload, None if parsed is None else [parsed], also=also)
        return outcomes[0]

    async def ingest_all(
        self,
        payload: Payload,
        parsed: Sequence[ParseResult] | None = None,
        *,
        also: Callable[[Tx], None] | None = None,
    ) -> list[ReceiptOutcome]:
        """Like ``ingest``, for providers that batch events (one receipt per event)."""

        def then(outcomes: list[ReceiptOutcome], tx: Tx) -> list[ReceiptOutcome]:
            if also is not None:
                also(tx)
            return outcomes

        inbox = await self.inbox(payload.inbox_id)
        payload = await self._keep_large(payload)
        try:
            results = (
                list(parsed)
                if parsed is not None
                else await self._parse(
                    inbox,
                    payload.source,
                    payload.body,
                    payload.context,
                    payload.stored,
                    payload.size,
                )
            )
        except Exception as exc:
            reason = _reason(exc, inbox.id, "inbound.unparseable")
            return await self._quarantine(payload, reason, then)
        try:
            return await self.execute(
                lambda tx: then(process_payloads(tx, self.cfg, payload, results), tx),
                key=_customer_key(results),
            )
        except Exception as exc:
            # A bug or a constraint we did not foresee: keep the payload, tell
            # the provider it is safe with us, and let an operator replay it.
            reason = _reason(exc, inbox.id, "inbound.failed", bug=True)
            return await self._quarantine(payload, reason, then)

    async def _keep_large(self, payload: Payload) -> Payload:
        """A payload past PROCESS_BYTES goes to the file store before it is parsed:
        the worker process reads that copy, and its receipt names the file rather
        than carry the bytes through the writer (tables.inbound_receipts)."""
        root = self.cfg.attachment_dir
        if root is None or payload.stored or payload.length <= PROCESS_BYTES:
            return payload
        try:
            digest = await anyio.to_thread.run_sync(put_file, root, payload.body)
        except OSError as exc:
            # Not kept anywhere yet: the provider must retry.
            log.error("inbound.spool_failed", inbox=payload.inbox_id, error=str(exc))
            raise StorageUnavailable(f"could not store the payload: {exc}") from exc
        return dataclasses.replace(payload, stored=digest)

    async def _quarantine(
        self,
        payload: Payload,
        reason: str,
        then: Callable[[list[ReceiptOutcome], Tx], list[ReceiptOutcome]],
    ) -> list[ReceiptOutcome]:
        """Keep the payload with its reason. Only this write failing reaches the
        edge (as StorageUnavailable), so the provider retries rather than being
        told a payload we could not keep is safe."""
        try:
            return await self.execute(
                lambda tx: then([quarantine_payload(tx, payload, reason)], tx)
            )
        except Exception as exc:
            log.exception("inbound.quarantine_failed", inbox=payload.inbox_id)
            raise StorageUnavailable(f"could not store the payload: {exc}") from exc

    async def replay(self, receipt_id: int, body: bytes | None = None) -> ReceiptOutcome:
        row = await self.db.read(
            lambda c: c.execute(
                sa.select(
                    inbound_receipts.c.inbox_id,
                    inbound_receipts.c.source,
                    inbound_receipts.c.payload,
                    inbound_receipts.c.payload_file,
                    inbound_receipts.c.context,
                ).where(inbound_receipts.c.id == receipt_id)
            ).first()
        )
        if row is None:
            raise NotFound(f"receipt {receipt_id} not found")
        inbox = await self.inbox(row.inbox_id)
        stored = b""
        if row.payload_file is not None:
            stored = await anyio.to_thread.run_sync(self._stored_payload, row.payload_file)
        original = stored if row.payload_file is not None else row.payload
        try:
            results = await self._parse(
                inbox,
                row.source,
                body or original,
                row.context,
                None if body else row.payload_file,
            )
        except Exception as exc:
            reason = _reason(exc, inbox.id, "inbound.replay_unparseable")
            raise ActionError(f"the payload still cannot be used: {reason}") from exc
        if len(results) != 1:
            raise ActionError(
                f"the payload now carries {len(results)} events; replay expects one "
                "(send a corrected payload with one event)"
            )
        return await self.execute(
            lambda tx: reprocess_receipt(tx, self.cfg, receipt_id, results[0], body, stored)
        )

    def _stored_payload(self, digest: str) -> bytes:
        try:
            return read_stored(self.cfg.attachment_dir, digest)
        except OSError as exc:
            raise ActionError(f"the stored payload cannot be read: {exc}") from exc


def _reason(exc: Exception, inbox_id: int, event: str, *, bug: bool = False) -> str:
    """Why a payload could not be used: a parser's declared PayloadError speaks for
    itself; anything else is a bug, named by its type and logged with its traceback."""
    if isinstance(exc, PayloadError) and not bug:
        log.warning(event, inbox=inbox_id, error=str(exc))
        return str(exc)
    log.error(event, inbox=inbox_id, exc_info=exc)
    return f"{type(exc).__name__}: {exc}"


def _customer_key(results: Sequence[ParseResult]) -> str | None:
    """Who the payload is from, so one customer's messages are placed in order."""
    for result in results:
        if isinstance(result, InboundMessage):
            return str(result.sender)
        if isinstance(result, CallEvent):
            return str(result.caller)
    return None
