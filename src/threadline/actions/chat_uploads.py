"""A visitor's uploads: kept as receipts until the message that carries them is sent.

An upload goes to the file store first (web/widget/service.py), so its receipt names
the file; with files kept in the database the receipt holds the bytes.
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa

from threadline.actions.errors import ActionError
from threadline.core.model import Attachment, StoredFile
from threadline.storage import inbound as store
from threadline.storage.db import Tx
from threadline.storage.tables import inbound_receipts

__all__ = [
    "UPLOAD_SOURCE",
    "pending_uploads",
    "store_upload",
    "upload_attachment",
    "upload_key",
]

UPLOAD_SOURCE = "chat_upload"  # the receipt source of a visitor's uploaded file


def upload_key(visitor_key: str, upload_id: str) -> str:
    """The receipt key of an upload: it names its visitor, so only they can send it."""
    return f"chat-upload:{visitor_key}:{upload_id}"


def store_upload(
    tx: Tx,
    *,
    inbox_id: int,
    visitor_key: str,
    filename: str,
    content_type: str,
    data: bytes,
    stored: str | None = None,
) -> str:
    """Keep a visitor's file until the message that carries it is sent; returns its id.

    It is a receipt like any payload a visitor hands us (durable, and listed for
    operators): ``ignored`` until a message takes it, then ``processed`` and
    linked to that message (actions/chat_hooks.py). ``stored``: the file's SHA-256
    when it is already in the file store, which the receipt then names.
    """
    upload_id = "up_" + secrets.token_urlsafe(12)
    store.insert_receipt(
        tx,
        inbox_id=inbox_id,
        source=UPLOAD_SOURCE,
        key=upload_key(visitor_key, upload_id),
        status="ignored",
        error="a widget upload, not sent with a message yet",
        payload=data,
        context={
            "filename": filename,
            "content_type": content_type,
            "visitor": visitor_key,
            "size": len(data),
        },
        message_id=None,
        processed=True,
        payload_file=stored,
    )
    return upload_id


def pending_uploads(tx: Tx, inbox_id: int, visitor_key: str, upload_ids: list[str]) -> list[Any]:
    """The visitor's uploads not yet sent, in the order named; ActionError for any other."""
    keys = [upload_key(visitor_key, u) for u in upload_ids]
    rows = {
        r.provider_message_id: r
        for r in tx.conn.execute(
            sa.select(
                inbound_receipts.c.id,
                inbound_receipts.c.provider_message_id,
                inbound_receipts.c.payload,
                inbound_receipts.c.payload_file,
                inbound_receipts.c.context,
            ).where(
                inbound_receipts.c.inbox_id == inbox_id,
                inbound_receipts.c.source == UPLOAD_SOURCE,
                inbound_receipts.c.provider_message_id.in_(keys),
                inbound_receipts.c.message_id.is_(None),
            )
        )
    }
    missing = [u for u, k in zip(upload_ids, keys, strict=True) if k not in rows]
    if missing:
        raise ActionError(f"unknown or already sent upload: {', '.join(missing)}")
    return [rows[k] for k in keys]


def upload_attachment(row: Any) -> Attachment:
    """A pending upload (a row of ``pending_uploads``) as the attachment its message takes."""
    context = row.context or {}
    size = context.get("size")
    stored = (
        StoredFile(row.payload_file, size)
        if row.payload_file is not None and isinstance(size, int)
        else None
    )
    return Attachment(
        filename=str(context.get("filename") or "file"),
        content_type=str(context.get("content_type") or ""),
        data=b"" if stored is not None else bytes(row.payload),
        stored=stored,
    )
