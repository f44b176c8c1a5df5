"""Attachments of messages: in the database, or on disk by content hash."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from threadline.actions.config import ActionConfig
from threadline.actions.errors import ActionError
from threadline.core.capabilities import ReplyRefused, check_attachment_bundle
from threadline.core.filetypes import safe_filename, sniff_type
from threadline.core.model import Attachment
from threadline.storage.db import Tx
from threadline.storage.tables import attachments

__all__ = ["check_outbound_files", "store_attachments"]


def check_outbound_files(items: Sequence[Attachment]) -> tuple[Attachment, ...]:
    """An agent's files as we will store and send them: a name safe to pass on, the
    type the bytes show (never the browser's word alone), within the limits of
    every message. Raises ActionError."""
    files = tuple(
        Attachment(
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
        if not f.data:
            raise ActionError(f"{f.filename} is empty")
    return files


def store_attachments(
    tx: Tx, cfg: ActionConfig, message_id: int, items: Sequence[Attachment]
) -> None:
    if items:
        tx.conn.execute(attachments.insert(), [_attachment_row(cfg, message_id, a) for a in items])


def _attachment_row(cfg: ActionConfig, message_id: int, a: Attachment) -> dict[str, object]:
    digest = hashlib.sha256(a.data).hexdigest()
    data: bytes | None = a.data
    if cfg.attachment_dir is not None:
        _store_file(cfg.attachment_dir, digest, a.data)
        data = None
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


def _store_file(root: Path, digest: str, data: bytes) -> None:
    """Content-addressed, written atomically: a crash leaves no half file under the final name."""
    path = root / digest[:2] / digest
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
