"""The rows one inbound message reads and writes, on the driver's cursor.

Every message that arrives runs these (storage/sql.py says why they bypass
Core). They are the whole per-message cost of the inbound path, so each one is
a single indexed statement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from threadline.core.model import IdentityRef
from threadline.storage.db import Tx
from threadline.storage.sql import Statement, db_bool, db_json, db_time, run
from threadline.storage.tables import as_utc

__all__ = [
    "MAX_HINTED",
    "ConversationRow",
    "conversations_by_id",
    "customer_conversations",
    "find_receipt",
    "identity_owners",
    "insert_conversation",
    "insert_customer",
    "insert_identity",
    "insert_message",
    "insert_receipt",
    "insert_timeline_entry",
    "name_customer",
    "same_payload",
    "touch_conversation",
]


class ConversationRow(NamedTuple):
    id: int
    customer_id: int
    status: str
    subject_key: str
    last_activity_at: datetime
    resolved_at: datetime | None
    last_inbound_channel: str | None


def _conversation(row: Sequence[Any]) -> ConversationRow:
    last = as_utc(row[4])
    assert last is not None
    return ConversationRow(row[0], row[1], row[2], row[3], last, as_utc(row[5]), row[6])


_FIND_RECEIPT = Statement(
    "SELECT id, status, message_id FROM inbound_receipts "
    "WHERE inbox_id = :inbox_id AND provider_message_id = :key"
)


def find_receipt(tx: Tx, inbox_id: int, key: str) -> tuple[int, str, int | None] | None:
    row = run(tx, _FIND_RECEIPT, {"inbox_id": inbox_id, "key": key}).fetchone()
    return None if row is None else (row[0], row[1], row[2])


_PAYLOAD_FILE = Statement("SELECT payload_file FROM inbound_receipts WHERE id = :id")
_SAME_PAYLOAD = Statement("SELECT 1 FROM inbound_receipts WHERE id = :id AND payload = :payload")
_PAYLOAD = Statement("SELECT payload FROM inbound_receipts WHERE id = :id")


def same_payload(tx: Tx, receipt_id: int, payload: bytes, digest: str | None = None) -> bool:
    """Whether the receipt holds exactly these bytes: ``payload``, or the file-store
    bytes whose SHA-256 is ``digest``. Compared by hash when either side is in the
    file store, else in the database: no need to fetch a stored mail of tens of MB
    to learn it is another one."""
    row = run(tx, _PAYLOAD_FILE, {"id": receipt_id}).fetchone()
    if row is None:
        return False
    if row[0] is not None:
        return bool(row[0] == (digest or hashlib.sha256(payload).hexdigest()))
    if digest is None:
        return run(tx, _SAME_PAYLOAD, {"id": receipt_id, "payload": payload}).fetchone() is not None
    # A row written before large payloads went to the file store: rare, read once.
    kept = run(tx, _PAYLOAD, {"id": receipt_id}).fetchone()
    return kept is not None and hashlib.sha256(bytes(kept[0])).hexdigest() == digest


_INSERT_RECEIPT = Statement(
    "INSERT INTO inbound_receipts (inbox_id, source, provider_message_id, status, error, "
    "payload, payload_file, context, message_id, received_at, processed_at, replays) VALUES "
    "(:inbox_id, :source, :key, :status, :error, :payload, :payload_file, :context, "
    ":message_id, :now, :processed_at, 0) RETURNING id"
)


# Past this a payload is written into its row piece by piece (SQLite's incremental
# blob I/O) rather than bound to the INSERT: sqlite3 binds a copy, and a cached
# statement keeps its last bindings, so each 36 MiB mail stayed in memory twice over
# until the next one replaced it.
_STREAM_PAYLOAD = 1024 * 1024
_BLOB_CHUNK = 1024 * 1024


def insert_receipt(
    tx: Tx,
    *,
    inbox_id: int,
    source: str,
    key: str,
    status: str,
    error: str | None,
    payload: bytes,
    context: dict[str, Any],
    message_id: int | None,
    processed: bool,
    payload_file: str | None = None,
) -> int:
    """The receipt's row. With ``payload_file`` (the payload's SHA-256, already in the
    file store) the row keeps only that name."""
    if payload_file is not None:
        payload = b""
    streamed = len(payload) > _STREAM_PAYLOAD and tx.conn.dialect.name == "sqlite"
    params = {
        "inbox_id": inbox_id,
        "source": source,
        "key": key,
        "status": status,
        "error": error,
        "payload": b"" if streamed else payload,
        "payload_file": payload_file,
        "context": db_json(tx, context),
        "message_id": message_id,
        "now": db_time(tx, tx.now),
        "processed_at": db_time(tx, tx.now) if processed else None,
    }
    if not streamed:
        return int(run(tx, _INSERT_RECEIPT, params).fetchone()[0])
    receipt_id = int(
        run(tx, _INSERT_RECEIPT_ZEROBLOB, {**params, "size": len(payload)}).fetchone()[0]
    )
    driver = tx.conn.connection.driver_connection
    assert driver is not None
    view = memoryview(payload)
    with driver.blobopen("inbound_receipts", "payload", receipt_id) as blob:
        for start in range(0, len(view), _BLOB_CHUNK):
            blob.write(view[start : start + _BLOB_CHUNK])
    return receipt_id


_INSERT_RECEIPT_ZEROBLOB = Statement(
    _INSERT_RECEIPT.text.replace(":payload,", "zeroblob(:size),", 1)
)


_OWNER = Statement("SELECT customer_id FROM identities WHERE kind = :kind AND value = :value")


def identity_owners(tx: Tx, refs: Sequence[IdentityRef]) -> dict[tuple[str, str], int]:
    """Which customer owns each identity (one indexed lookup each: usually one)."""
    owners: dict[tuple[str, str], int] = {}
    for ref in refs:
        row = run(tx, _OWNER, {"kind": ref.kind, "value": ref.value}).fetchone()
        if row is not None:
            owners[ref.key] = row[0]
    return owners


_INSERT_CUSTOMER = Statement(
    "INSERT INTO customers (name, created_at, updated_at) VALUES (:name, :now, :now) RETURNING id"
)
_NAME_CUSTOMER = Statement(
    "UPDATE customers SET name = :name, updated_at = :now WHERE id = :id AND name IS NULL"
)
_INSERT_IDENTITY = Statement(
    "INSERT INTO identities (customer_id, kind, value, verified, created_at) "
    "VALUES (:customer_id, :kind, :value, :verified, :now)"
)


def insert_customer(tx: Tx, name: str | None) -> int:
    return int(run(tx, _INSERT_CUSTOMER, {"name": name, "now": db_time(tx, tx.now)}).fetchone()[0])


def name_customer(tx: Tx, customer_id: int, name: str) -> None:
    run(tx, _NAME_CUSTOMER, {"name": name, "id": customer_id, "now": db_time(tx, tx.now)})


def insert_identity(tx: Tx, customer_id: int, ref: IdentityRef) -> None:
    run(
        tx,
        _INSERT_IDENTITY,
        {
            "customer_id": customer_id,
            "kind": ref.kind,
            "value": ref.value,
            "verified": db_bool(tx, ref.verified),
            "now": db_time(tx, tx.now),
        },
    )


_OWN_CONVERSATIONS = Statement(
    "SELECT id, customer_id, status, subject_key, last_activity_at, resolved_at, "
    "last_inbound_channel FROM conversations WHERE customer_id = :customer_id "
    "ORDER BY last_activity_at DESC LIMIT 20"
)


def customer_conversations(tx: Tx, customer_id: int) -> list[ConversationRow]:
    """The customer's 20 most recent conversations: the continuity candidates."""
    cursor = run(tx, _OWN_CONVERSATIONS, {"customer_id": customer_id})
    return [_conversation(r) for r in cursor.fetchall()]


_CONVERSATION_BY_ID = Statement(
    "SELECT id, customer_id, status, subject_key, last_activity_at, resolved_at, "
    "last_inbound_channel FROM conversations WHERE id = :id"
)
MAX_HINTED = 4  # one conversation per kind of thread hint (core.continuity.HintKind)


def conversations_by_id(tx: Tx, ids: Iterable[int]) -> list[ConversationRow]:
    """Conversations named by thread hints, one primary-key read each (a widget
    message names its conversation, so this runs for every chat message).

    At most ``MAX_HINTED`` distinct ids: they come from outside (a session, a
    token, a subject), so the caller's one-per-hint-kind is held here too."""
    wanted = list(dict.fromkeys(ids))
    if len(wanted) > MAX_HINTED:
        raise ValueError(f"{len(wanted)} hinted conversations; at most {MAX_HINTED}")
    found = []
    for cid in wanted:
        row = run(tx, _CONVERSATION_BY_ID, {"id": cid}).fetchone()
        if row is not None:
            found.append(_conversation(row))
    return found


_INSERT_CONVERSATION = Statement(
    "INSERT INTO conversations (customer_id, inbox_id, status, priority, escalation_level, "
    "subject, subject_key, last_inbound_channel, last_inbound_at, last_activity_at, "
    "created_at, updated_at, waiting_since, first_response_due_at, resolution_due_at, "
    "status_changed_at) VALUES (:customer_id, :inbox_id, 'open', 'normal', 1, :subject, "
    ":subject_key, :channel, :now, :now, :now, :now, :now, :first_response_due_at, "
    ":resolution_due_at, :now) RETURNING id"
)
_TOUCH_CONVERSATION = Statement(
    "UPDATE conversations SET status = 'open', resolved_at = NULL, snoozed_until = NULL, "
    # every right-hand side reads the row as it was: the status changes if it was not open
    "status_changed_at = CASE WHEN status = 'open' THEN status_changed_at ELSE :now END, "
    "first_response_due_at = :first_response_due_at, "
    "next_response_due_at = :next_response_due_at, resolution_due_at = :resolution_due_at, "
    "paused_at = :paused_at, paused_seconds = :paused_seconds, "
    "waiting_since = COALESCE(waiting_since, :now), last_inbound_channel = :channel, "
    "last_inbound_at = :now, last_activity_at = :now, updated_at = :now WHERE id = :id"
)


def insert_conversation(
    tx: Tx,
    *,
    customer_id: int,
    inbox_id: int,
    subject: str | None,
    subject_key: str,
    channel: str,
    clocks: Mapping[str, Any],
) -> int:
    """``clocks``: the first-response and resolution due times (actions/sla.py)."""
    params = {
        "first_response_due_at": db_time(tx, clocks["first_response_due_at"]),
        "resolution_due_at": db_time(tx, clocks["resolution_due_at"]),
        "customer_id": customer_id,
        "inbox_id": inbox_id,
        "subject": subject,
        "subject_key": subject_key,
        "channel": channel,
        "now": db_time(tx, tx.now),
    }
    return int(run(tx, _INSERT_CONVERSATION, params).fetchone()[0])


def touch_conversation(
    tx: Tx, conversation_id: int, channel: str, clocks: Mapping[str, Any]
) -> None:
    """The customer wrote: the conversation is open (a snooze or a pause ends), this is
    its latest activity, and the customer is waiting (since their first unanswered
    message). ``clocks``: the SLA columns as actions/sla.py computed them."""
    run(
        tx,
        _TOUCH_CONVERSATION,
        {
            "id": conversation_id,
            "channel": channel,
            "now": db_time(tx, tx.now),
            "first_response_due_at": db_time(tx, clocks["first_response_due_at"]),
            "next_response_due_at": db_time(tx, clocks["next_response_due_at"]),
            "resolution_due_at": db_time(tx, clocks["resolution_due_at"]),
            "paused_at": db_time(tx, clocks["paused_at"]),
            "paused_seconds": clocks["paused_seconds"],
        },
    )


_INSERT_MESSAGE = Statement(
    "INSERT INTO messages (conversation_id, customer_id, inbox_id, direction, channel, "
    "author_type, text, full_text, html, provider_message_id, status, meta, created_at, "
    "sent_at) VALUES (:conversation_id, :customer_id, :inbox_id, 'inbound', :channel, "
    "'customer', :text, :full_text, :html, :provider_message_id, 'received', :meta, :now, "
    ":sent_at) RETURNING id"
)


def insert_message(
    tx: Tx,
    *,
    conversation_id: int,
    customer_id: int,
    inbox_id: int,
    channel: str,
    text: str,
    full_text: str | None,
    html: str | None,
    provider_message_id: str | None,
    meta: dict[str, Any],
    sent_at: datetime | None,
) -> int:
    """An inbound message (the FTS trigger or generated column indexes it for search)."""
    params = {
        "conversation_id": conversation_id,
        "customer_id": customer_id,
        "inbox_id": inbox_id,
        "channel": channel,
        "text": text,
        "full_text": full_text,
        "html": html,
        "provider_message_id": provider_message_id,
        "meta": db_json(tx, meta),
        "now": db_time(tx, tx.now),
        "sent_at": db_time(tx, sent_at),
    }
    return int(run(tx, _INSERT_MESSAGE, params).fetchone()[0])


_INSERT_ENTRY = Statement(
    "INSERT INTO timeline_entries (customer_id, conversation_id, kind, message_id, data, "
    "created_at) VALUES (:customer_id, :conversation_id, :kind, :message_id, :data, :now) "
    "RETURNING id"
)


def insert_timeline_entry(
    tx: Tx,
    *,
    customer_id: int,
    conversation_id: int | None,
    kind: str,
    message_id: int | None,
    data: dict[str, Any],
) -> int:
    params = {
        "customer_id": customer_id,
        "conversation_id": conversation_id,
        "kind": kind,
        "message_id": message_id,
        "data": db_json(tx, data),
        "now": db_time(tx, tx.now),
    }
    return int(run(tx, _INSERT_ENTRY, params).fetchone()[0])
