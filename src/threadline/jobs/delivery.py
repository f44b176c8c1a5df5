"""The `deliver` job: send one queued message through its channel's adapter."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.actions.delivery import set_delivery_status
from threadline.bus import Bus
from threadline.core.model import (
    Channel,
    DeliveryError,
    DeliveryStatus,
    Direction,
    OutboundFile,
    OutboundMessage,
)
from threadline.core.tokens import sign_id, sign_until
from threadline.jobs.queue import Job
from threadline.jobs.runner import JobFailed
from threadline.ports import Sender
from threadline.queries.attachments import attachment_data, message_attachments
from threadline.storage.tables import conversations, messages, users

__all__ = ["MEDIA_TTL", "Delivery", "media_url"]

# How long a /media/ link works. Twilio and Meta fetch a file when they send it,
# which is seconds after we ask; a day covers their retries. Each delivery
# attempt signs fresh links.
MEDIA_TTL = timedelta(hours=24)


def media_url(base: str, attachment_id: int, expires: int, secret: str) -> str:
    return f"{base.rstrip('/')}/media/{sign_until('media', attachment_id, expires, secret)}"


def _files(conn: Connection, message_id: int, root: Path | None) -> list[tuple[Any, bytes]]:
    found = []
    for row in message_attachments(conn, message_id):
        data = attachment_data(row, root)
        if data is None:
            raise JobFailed(f"the file {row.filename} of message {message_id} is no longer stored")
        found.append((row, data))
    return found


def _load(conn: Connection, message_id: int) -> tuple[Any, Any, Any, Any]:
    msg = conn.execute(sa.select(messages).where(messages.c.id == message_id)).first()
    if msg is None:
        return None, None, None, None
    conv = conn.execute(
        sa.select(conversations.c.subject).where(conversations.c.id == msg.conversation_id)
    ).first()
    parent = conn.execute(
        sa.select(messages.c.provider_message_id, messages.c.meta)
        .where(
            messages.c.conversation_id == msg.conversation_id,
            messages.c.channel == msg.channel,
            messages.c.direction == Direction.INBOUND.value,
            messages.c.id < msg.id,
        )
        .order_by(messages.c.id.desc())
        .limit(1)
    ).first()
    author = None
    if msg.author_id is not None:
        author = conn.execute(sa.select(users.c.name).where(users.c.id == msg.author_id)).scalar()
    return msg, conv, parent, author


class Delivery:
    def __init__(self, bus: Bus, senders: Mapping[str, Sender], *, public_base: str) -> None:
        self.bus = bus
        self.senders = senders
        self.public_base = public_base  # where providers fetch /media/ links

    async def __call__(self, job: Job) -> None:
        message_id = int(job.payload["message_id"])
        msg, conv, parent, author = await self.bus.db.read(lambda c: _load(c, message_id))
        if msg is None:
            raise JobFailed(f"message {message_id} no longer exists")
        if msg.status != DeliveryStatus.QUEUED.value:
            return  # sent by an earlier attempt whose completion was lost: never twice
        sender = self.senders.get(msg.channel)
        if sender is None or msg.inbox_id is None:
            raise JobFailed(f"no way to send on {msg.channel}: no adapter or inbox configured")
        inbox = await self.bus.inbox(msg.inbox_id)
        secret = self.bus.cfg.secret_key
        root = self.bus.cfg.attachment_dir
        files = await self.bus.db.read(lambda c: _files(c, message_id, root))
        expires = int((self.bus.db.clock.now() + MEDIA_TTL).timestamp())
        references: tuple[str, ...] = ()
        in_reply_to = None
        if parent is not None and parent.provider_message_id:
            in_reply_to = parent.provider_message_id
            references = (*parent.meta.get("references", []), in_reply_to)
        outbound = OutboundMessage(
            message_id=msg.id,
            conversation_id=msg.conversation_id,
            channel=Channel(msg.channel),
            recipient=msg.recipient or "",
            text=msg.text,
            html=msg.html,
            subject=(conv.subject if conv is not None else None),
            author_name=author,
            provider_message_id=msg.provider_message_id,
            in_reply_to=in_reply_to,
            references=references,
            reply_token=sign_id("reply", msg.conversation_id, secret),
            bounce_token=sign_id("bounce", msg.id, secret),
            auto_reply=msg.author_type == "system",
            template=msg.meta.get("template"),
            attachments=tuple(
                OutboundFile(
                    filename=row.filename,
                    content_type=row.content_type,
                    data=data,
                    url=media_url(self.public_base, row.id, expires, secret),
                )
                for row, data in files
            ),
        )
        try:
            provider_id = await sender.send(inbox, outbound)
        except DeliveryError as exc:
            if exc.permanent:
                raise JobFailed(exc.reason) from exc
            raise
        await self.bus.execute(
            lambda tx: set_delivery_status(
                tx, message_id, DeliveryStatus.SENT, provider_message_id=provider_id
            )
        )

    async def give_up(self, job: Job, reason: str) -> None:
        message_id = int(job.payload["message_id"])
        await self.bus.execute(
            lambda tx: set_delivery_status(tx, message_id, DeliveryStatus.FAILED, error=reason)
        )
