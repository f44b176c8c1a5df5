"""Durable receipts: every payload a provider handed us, stored once.

The receipt is written in the same transaction as the work it caused, so a
provider's retry either finds it (and is acknowledged without a second message)
or finds nothing (and the work is done now). A payload we cannot use is kept in
quarantine with its error, for an operator to inspect and replay.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from threadline.actions.calls import record_call
from threadline.actions.config import ActionConfig
from threadline.actions.delivery import apply_status_update
from threadline.actions.errors import Conflict, NotFound
from threadline.actions.inbound import receive_inbound
from threadline.core.model import CallEvent, Ignored, InboundMessage, ParseResult, StatusUpdate
from threadline.storage import inbound as store
from threadline.storage.db import Tx
from threadline.storage.tables import inbound_receipts

__all__ = [
    "Payload",
    "ReceiptOutcome",
    "payload_key",
    "process_payload",
    "process_payloads",
    "quarantine_payload",
    "reprocess_receipt",
]


@dataclass(frozen=True, slots=True)
class Payload:
    """Raw bytes from an edge, before anyone trusted them."""

    inbox_id: int
    source: str  # the parser that reads it: "email", "api", …
    body: bytes
    context: dict[str, Any] = field(default_factory=dict)  # envelope, URL, headers
    # The body's SHA-256 when it is in the file store (a large one, see
    # Bus.ingest_all): its receipt names the file instead of holding the bytes.
    # ``body`` may then be empty, the bytes never read into the server (the email
    # webhook's spool goes straight to the store), and ``size`` says how many.
    stored: str | None = None
    size: int | None = None

    @property
    def length(self) -> int:
        return self.size if self.size is not None else len(self.body)

    @property
    def key(self) -> str:
        """The dedup key of a payload too broken to name itself (payload_key)."""
        return "sha256:" + self.stored if self.stored else payload_key(self.body)


@dataclass(frozen=True, slots=True)
class ReceiptOutcome:
    receipt_id: int
    status: str  # processed | ignored | quarantined | duplicate
    message_id: int | None = None
    conversation_id: int | None = None
    customer_id: int | None = None
    detail: str | None = None


def payload_key(body: bytes) -> str:
    """The dedup key for a payload too broken to name itself: its hash, stable across retries."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _result_key(parsed: ParseResult, payload: Payload) -> str:
    if isinstance(parsed, InboundMessage):
        return parsed.provider_message_id
    if isinstance(parsed, CallEvent):
        return parsed.key
    return parsed.key or payload.key


def _apply(tx: Tx, cfg: ActionConfig, inbox_id: int, parsed: ParseResult) -> dict[str, Any]:
    """Do what the payload asks; returns the receipt columns describing the result."""
    if isinstance(parsed, InboundMessage):
        result = receive_inbound(tx, cfg, inbox_id, parsed)
        return {
            "status": "processed",
            "message_id": result.message_id,
            "_conversation_id": result.conversation_id,
            "_customer_id": result.customer_id,
        }
    if isinstance(parsed, CallEvent):
        call = record_call(tx, cfg, inbox_id, parsed)
        return {
            "status": "processed",
            "message_id": None,
            "_conversation_id": call.conversation_id,
            "_customer_id": call.customer_id,
        }
    if isinstance(parsed, StatusUpdate):
        found = apply_status_update(tx, parsed, cfg.secret_key)
        detail = None if found else "no outbound message matches this status update"
        return {"status": "processed" if found else "ignored", "error": detail, "message_id": found}
    assert isinstance(parsed, Ignored)
    return {"status": "ignored", "error": parsed.reason}


def _outcome(receipt_id: int, cols: dict[str, Any]) -> ReceiptOutcome:
    return ReceiptOutcome(
        receipt_id,
        cols["status"],
        cols.get("message_id"),
        cols.get("_conversation_id"),
        cols.get("_customer_id"),
        cols.get("error"),
    )


def process_payload(
    tx: Tx, cfg: ActionConfig, payload: Payload, parsed: ParseResult
) -> ReceiptOutcome:
    key = _result_key(parsed, payload)
    seen = store.find_receipt(tx, payload.inbox_id, key)
    if seen is not None and _reused_message_id(tx, payload, parsed, seen[0]):
        key = _content_key(key, payload)
        seen = store.find_receipt(tx, payload.inbox_id, key)
    if seen is not None:
        return _duplicate(seen)
    cols = _apply(tx, cfg, payload.inbox_id, parsed)
    receipt_id = store.insert_receipt(
        tx,
        inbox_id=payload.inbox_id,
        source=payload.source,
        key=key,
        status=cols["status"],
        error=cols.get("error"),
        payload=payload.body,
        context=payload.context,
        message_id=cols.get("message_id"),
        processed=True,
        payload_file=payload.stored,
    )
    return _outcome(receipt_id, cols)


def _reused_message_id(tx: Tx, payload: Payload, parsed: ParseResult, receipt_id: int) -> bool:
    # A provider's id names one event, but an email Message-ID is whatever the
    # sender's software wrote, and some reuse them (5 of the 65 mails in
    # CPython's email test data share one with another). A true retry (SMTP,
    # an IMAP refetch) brings the same bytes; other bytes are another mail.
    return (
        payload.source == "email"
        and isinstance(parsed, InboundMessage)
        and not store.same_payload(tx, receipt_id, payload.body, payload.stored)
    )


def _content_key(key: str, payload: Payload) -> str:
    """The key of a mail whose Message-ID an earlier, different mail took; a retry
    of this one finds it again (the column holds 500 characters)."""
    return f"{key[:420]}#{payload.key}"


def _duplicate(seen: tuple[int, str, int | None]) -> ReceiptOutcome:
    receipt_id, status, message_id = seen
    return ReceiptOutcome(receipt_id, "duplicate", message_id, detail=f"was {status}")


def process_payloads(
    tx: Tx, cfg: ActionConfig, payload: Payload, results: Sequence[ParseResult]
) -> list[ReceiptOutcome]:
    """One provider request can carry several events (Meta batches them): each
    gets its own receipt, so a retry of the request dedups event by event."""
    return [process_payload(tx, cfg, payload, r) for r in results]


def quarantine_payload(
    tx: Tx, payload: Payload, error: str, key: str | None = None
) -> ReceiptOutcome:
    key = key or payload.key
    seen = store.find_receipt(tx, payload.inbox_id, key)
    if seen is not None:
        return _duplicate(seen)
    receipt_id = store.insert_receipt(
        tx,
        inbox_id=payload.inbox_id,
        source=payload.source,
        key=key,
        status="quarantined",
        error=error[:4000],
        payload=payload.body,
        context=payload.context,
        message_id=None,
        processed=False,
        payload_file=payload.stored,
    )
    return ReceiptOutcome(receipt_id, "quarantined", detail=error)


def reprocess_receipt(
    tx: Tx,
    cfg: ActionConfig,
    receipt_id: int,
    parsed: ParseResult,
    body: bytes | None,
    stored: bytes = b"",
) -> ReceiptOutcome:
    """Replay a quarantined receipt with today's code, or with an operator's corrected
    payload. ``stored`` is the payload as read from the file store, for a receipt
    that keeps it there (the caller read it outside the transaction)."""
    row = tx.conn.execute(
        sa.select(inbound_receipts).where(inbound_receipts.c.id == receipt_id)
    ).first()
    if row is None:
        raise NotFound(f"receipt {receipt_id} not found")
    if row.status != "quarantined":
        raise Conflict(f"receipt {receipt_id} is {row.status}, only quarantined receipts replay")
    original = row.payload if row.payload_file is None else stored
    new_body = body if body is not None else original
    payload = Payload(row.inbox_id, row.source, new_body)
    key = _result_key(parsed, payload)
    if key != row.provider_message_id:
        twin = store.find_receipt(tx, row.inbox_id, key)
        if twin is not None and _reused_message_id(tx, payload, parsed, twin[0]):
            key = _content_key(key, payload)
            twin = store.find_receipt(tx, row.inbox_id, key)
        if twin is not None:
            cols: dict[str, Any] = {
                "status": "ignored",
                "error": f"duplicate of receipt {twin[0]}",
                "message_id": twin[2],
            }
            key = row.provider_message_id
        else:
            cols = _apply(tx, cfg, row.inbox_id, parsed)
    else:
        cols = _apply(tx, cfg, row.inbox_id, parsed)
    context = dict(row.context)
    values: dict[str, Any] = {}
    if body is not None:
        # Keep what the provider really sent beside the operator's correction.
        if row.payload_file is not None:
            context.setdefault("original_payload_file", row.payload_file)
        else:
            context.setdefault("original_payload_b64", base64.b64encode(row.payload).decode())
        values = {"payload": body, "payload_file": None}
    tx.conn.execute(
        inbound_receipts.update()
        .where(inbound_receipts.c.id == receipt_id)
        .values(
            provider_message_id=key,
            status=cols["status"],
            error=cols.get("error"),
            message_id=cols.get("message_id"),
            context=context,
            processed_at=tx.now,
            replays=row.replays + 1,
            **values,
        )
    )
    return _outcome(receipt_id, cols)
