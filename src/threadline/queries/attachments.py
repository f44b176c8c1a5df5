"""Reading stored attachments back: a message's files, and one file's bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.storage.files import file_path
from threadline.storage.tables import attachments, messages

__all__ = ["attachment_data", "linked_attachment", "message_attachments"]


def message_attachments(conn: Connection, message_id: int) -> list[Any]:
    """The files that go out with a message, in the order they were added."""
    return list(
        conn.execute(
            sa.select(attachments)
            .where(attachments.c.message_id == message_id, attachments.c.inline.is_(False))
            .order_by(attachments.c.id)
        )
    )


def linked_attachment(conn: Connection, attachment_id: int) -> Any | None:
    """A file of an outbound message (the only ones we hand out links to), or None."""
    return conn.execute(
        sa.select(attachments)
        .join(messages, messages.c.id == attachments.c.message_id)
        .where(attachments.c.id == attachment_id, messages.c.direction == "outbound")
    ).first()


def attachment_data(row: Any, root: Path | None) -> bytes | None:
    """The bytes, from the row or from disk by content hash; None when they are gone."""
    if row.data is not None:
        return bytes(row.data)
    if root is None:
        return None
    try:
        data: bytes = file_path(Path(root), row.sha256).read_bytes()
    except FileNotFoundError:
        return None
    return data
