"""Attachments of messages: in the database, or on disk by content hash."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from pathlib import Path

from threadline.actions.config import ActionConfig
from threadline.actions.errors import ActionError
from threadline.core.capabilities import ReplyRefused, check_attachment_bundle
from threadline.core.filetypes import safe_filename, sniff_type
from threadline.core.model import Attachment, StoredFile
from threadline.storage.db import Tx
from threadline.storage.files import put_file
from threadline.storage.tables import attachments

__all__ = ["check_outbound_files", "keep_ahead", "store_attachments"]


def check_outbound_files(items: Sequence[Attachment]) -> tuple[Attachment, ...]:
    """An agent's files as we will store and send them: a name safe to pass on, the
    type the bytes show (never the browser's word alone), within the limits of
    every message. Raises ActionError."""
    files = tuple(
        # One already in the store was checked on its way there (keep_ahead).
        a
        if a.stored is not None
        else Attachment(
            filename=safe_filename(a.filename),
            content_type=sniff_type(a.data, a.content_type, a.filename),
            data=a.data,
        )
        for a in items
    )
    try:
        check_attachment_bundle([(f.content_type, f.size) for f in files])
    except ReplyRefused as exc:
        raise ActionError(str(exc)) from exc
    for f in files:
        if not f.size:
            raise ActionError(f"{f.filename} is empty")
    return files


def keep_ahead(root: Path | None, items: Sequence[Attachment]) -> list[Attachment]:
    """``items`` checked as check_outbound_files does and, with a file store, put in
    it before the action that records them, so that the writer carries their names
    rather than their bytes: 10 MiB hashed and written in the writer held up every
    message queued behind it. Blocking: run it in a worker thread. Raises ActionError.
    A file whose action then fails stays in the store, under its hash, as the parse
    worker's files do."""
    files = check_outbound_files(items)
    if root is None:
        return list(files)
    return [
        dataclasses.replace(f, data=b"", stored=StoredFile(put_file(root, f.data), f.size))
        for f in files
    ]


def store_attachments(
    tx: Tx, cfg: ActionConfig, message_id: int, items: Sequence[Attachment]
) -> None:
    if items:
        tx.conn.execute(attachments.insert(), [_attachment_row(cfg, message_id, a) for a in items])


def _attachment_row(cfg: ActionConfig, message_id: int, a: Attachment) -> dict[str, object]:
    data: bytes | None = a.data
    if a.stored is not None:
        # The parse worker already put it in the store (offload.py): only its row is new.
        digest, data = a.stored.sha256, None
    elif cfg.attachment_dir is not None:
        digest, data = put_file(cfg.attachment_dir, a.data), None
    else:
        digest = hashlib.sha256(a.data).hexdigest()
    return {
        "message_id": message_id,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "content_id": a.content_id,
        "inline": a.inline,
        "sha256": digest,
        "data": data,
    }
