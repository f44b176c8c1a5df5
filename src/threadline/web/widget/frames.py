"""What the server sends a widget: events shaped as docs/widget.md describes them.

Text goes out as text; the widget shows it escaped. A file is named by a signed,
expiring link (``/widget/files/{token}``), the only credential for it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from threadline.core.tokens import sign_until
from threadline.queries.chat import ChatEvent

__all__ = ["FILE_PURPOSE", "FileLinks", "dumps", "event_body", "frame"]

FILE_PURPOSE = "widget-file"
FILE_LINK_HOURS = 24


def dumps(data: dict[str, Any]) -> str:
    return orjson.dumps(data).decode()


def frame(name: str, /, **fields: Any) -> dict[str, Any]:
    """A server frame: ``{"type": name, **fields}``."""
    return {"type": name, **fields}


class FileLinks:
    """Signed links to files, valid for a day from the start of the current hour
    (so the same file keeps the same link for an hour: browsers cache it)."""

    def __init__(self, base_url: str, secret: str, now: datetime) -> None:
        hour = int(now.timestamp()) // 3600 * 3600
        self.expires = hour + (FILE_LINK_HOURS + 1) * 3600
        self.base = base_url.rstrip("/")
        self.secret = secret

    def __call__(self, attachment_id: int) -> str:
        token = sign_until(FILE_PURPOSE, attachment_id, self.expires, self.secret)
        return f"{self.base}/widget/files/{token}"


def _from(e: ChatEvent) -> str:
    if e.direction == "inbound":
        return "visitor"
    return "agent" if e.author_type == "agent" else "system"


def event_body(e: ChatEvent, link: Callable[[int], str]) -> dict[str, Any]:
    """One event's fields (the REST answer's items; the socket adds ``type``)."""
    body: dict[str, Any] = {"seq": e.seq, "kind": e.kind, "at": e.at.isoformat()}
    if e.kind == "message":
        sender = _from(e)
        body.update(
            id=str(e.message_id),  # ids are opaque strings to the widget
            cid=e.cid,
            **{"from": sender},
            text=e.text or "",
            author=e.author_name if sender == "agent" else None,
            attachments=[
                {"name": a["name"], "type": a["type"], "size": a["size"], "url": link(a["id"])}
                for a in e.attachments
            ],
        )
    elif e.kind == "csat":
        body.update(score=e.data.get("score"), comment=e.data.get("comment"))
    return body
