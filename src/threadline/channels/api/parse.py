"""The API channel: a business's own systems posting customer messages as JSON.

The caller is authenticated by its bearer token, so the identities it names
are the business's own assertion and count as verified, unless it says
otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from threadline.core.identity import InvalidIdentity, normalize
from threadline.core.model import Channel, IdentityRef, InboundMessage, ThreadHints
from threadline.ports import Inbox

__all__ = ["ApiCustomer", "ApiMessage", "ApiParser", "to_inbound"]


class ApiCustomer(msgspec.Struct, forbid_unknown_fields=True):
    external_id: str | None = None
    email: str | None = None
    phone: str | None = None
    name: str | None = None
    verified: bool = True


class ApiMessage(msgspec.Struct, forbid_unknown_fields=True):
    customer: ApiCustomer
    text: str
    id: str | None = None  # the caller's id for this message: a retry with it is stored once
    inbox_id: int | None = None
    subject: str | None = None
    html: str | None = None
    conversation_id: int | None = None
    sent_at: datetime | None = None


_decoder = msgspec.json.Decoder(ApiMessage)


def to_inbound(msg: ApiMessage, default_region: str | None = None) -> InboundMessage:
    c = msg.customer
    refs: list[IdentityRef] = []
    try:
        if c.external_id:
            refs.append(normalize("external", c.external_id, verified=c.verified))
        if c.email:
            refs.append(normalize("email", c.email, verified=c.verified))
        if c.phone:
            refs.append(
                normalize("phone", c.phone, verified=c.verified, default_region=default_region)
            )
    except InvalidIdentity as exc:
        raise ValueError(str(exc)) from exc
    if not refs:
        raise ValueError("customer needs at least one of external_id, email or phone")
    text = msg.text.strip()
    if not text:
        raise ValueError("text must not be empty")
    if len(text) > 100_000:
        raise ValueError("text is longer than 100,000 characters")
    return InboundMessage(
        channel=Channel.API,
        provider_message_id=msg.id or f"api:{uuid.uuid4()}",
        sender=refs[0],
        also=tuple(refs[1:]),
        sender_name=c.name,
        text=text,
        hints=ThreadHints(subject=msg.subject, conversation_id=msg.conversation_id),
        sent_at=msg.sent_at,
    )


class ApiParser:
    offload = False  # a few µs of msgspec: cheaper than the thread hop

    def __call__(self, inbox: Inbox, body: bytes, context: Mapping[str, Any]) -> InboundMessage:
        try:
            msg = _decoder.decode(body)
        except msgspec.DecodeError as exc:
            raise ValueError(f"invalid message: {exc}") from exc
        return to_inbound(msg, inbox.config.get("default_region"))
