"""The API channel: a business's own systems posting customer messages as JSON.

The caller is authenticated by its bearer token, so the identities it names
are the business's own assertion and count as verified, unless it says
otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

import msgspec

from threadline.channels.checks import MAX_ID, claimed_time, clean_text, identity
from threadline.core.model import Channel, IdentityRef, InboundMessage, PayloadError, ThreadHints
from threadline.ports import Inbox

__all__ = ["ApiCustomer", "ApiMessage", "ApiParser", "to_inbound"]

MAX_TEXT = 100_000
# Bounds the store can hold: an id or a name beyond them would fail only at the
# INSERT, after the payload had been accepted.
_Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
_Short = Annotated[str, msgspec.Meta(max_length=255)]
_Name = Annotated[str, msgspec.Meta(max_length=200)]
_Text = Annotated[str, msgspec.Meta(max_length=4 * MAX_TEXT)]  # stripped, then checked


class ApiCustomer(msgspec.Struct, forbid_unknown_fields=True):
    external_id: _Short | None = None
    email: _Short | None = None
    phone: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    name: _Name | None = None
    verified: bool = True


class ApiMessage(msgspec.Struct, forbid_unknown_fields=True):
    customer: ApiCustomer
    text: _Text
    id: _Short | None = None  # the caller's id for this message: a retry with it is stored once
    inbox_id: _Id | None = None
    subject: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    html: _Text | None = None
    conversation_id: _Id | None = None
    sent_at: datetime | None = None


_decoder = msgspec.json.Decoder(ApiMessage)


def to_inbound(msg: ApiMessage, default_region: str | None = None) -> InboundMessage:
    """Raises PayloadError (a ValueError) when the message cannot be used."""
    c = msg.customer
    refs: list[IdentityRef] = []
    if c.external_id:
        refs.append(identity("external", clean_text(c.external_id), verified=c.verified))
    if c.email:
        refs.append(identity("email", c.email, verified=c.verified))
    if c.phone:
        refs.append(identity("phone", c.phone, verified=c.verified, default_region=default_region))
    if not refs:
        raise PayloadError("customer needs at least one of external_id, email or phone")
    text = clean_text(msg.text).strip()
    if not text:
        raise PayloadError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise PayloadError("text is longer than 100,000 characters")
    return InboundMessage(
        channel=Channel.API,
        provider_message_id=clean_text(msg.id) if msg.id else f"api:{uuid.uuid4()}",
        sender=refs[0],
        also=tuple(refs[1:]),
        sender_name=clean_text(c.name) if c.name else None,
        text=text,
        hints=ThreadHints(
            subject=clean_text(msg.subject) if msg.subject else None,
            conversation_id=msg.conversation_id,
        ),
        sent_at=claimed_time(msg.sent_at),
    )


class ApiParser:
    offload = False  # a few µs of msgspec: cheaper than the thread hop

    def __call__(self, inbox: Inbox, body: bytes, context: Mapping[str, Any]) -> InboundMessage:
        try:
            msg = _decoder.decode(body)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # msgspec raises the latter too
            raise PayloadError(f"invalid message: {exc}") from exc
        except RecursionError as exc:
            # msgspec recurses to skip a deeply nested unknown value
            raise PayloadError("invalid message: nested too deeply") from exc
        return to_inbound(msg, inbox.config.get("default_region"))
