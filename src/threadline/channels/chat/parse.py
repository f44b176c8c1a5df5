"""A visitor's chat message, as the widget edge stores it, into the inbound shape.

The edge (web/widget) writes the payload from the visitor's session, never from
what the page claims: the session token proves the visitor, so the sender
``chat:<visitor key>`` is verified. A signed identity (checked at the edge
against the inbox's HMAC secret) adds ``external:`` and ``email:`` as verified;
an email the visitor only typed is a claimed identity, which core.identity turns
into a merge suggestion when someone else owns it, never a merge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import msgspec

from threadline.channels.chat.frames import MAX_ATTACHMENTS, MAX_TEXT, Cid, UploadId
from threadline.channels.checks import MAX_ID, clean_text, identity
from threadline.core.model import Channel, IdentityRef, InboundMessage, PayloadError, ThreadHints
from threadline.ports import Inbox

__all__ = ["ChatParser", "ChatPayload", "encode_payload", "provider_id", "to_inbound"]

VisitorKey = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,32}$")]


class ChatPayload(msgspec.Struct, forbid_unknown_fields=True):
    v: Literal[1]
    visitor: VisitorKey
    cid: Cid
    text: Annotated[str, msgspec.Meta(max_length=4 * MAX_TEXT)]  # cleaned, then checked
    uploads: Annotated[list[UploadId], msgspec.Meta(max_length=MAX_ATTACHMENTS)] = []
    name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    external_id: Annotated[str, msgspec.Meta(max_length=255)] | None = None
    verified: bool = False  # the edge checked a signed identity for this visitor
    conversation_id: Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)] | None = None


_decoder = msgspec.json.Decoder(ChatPayload)


def provider_id(visitor_key: str, cid: str) -> str:
    """The receipt key of a visitor's message: a resend with the same cid is one message."""
    return f"chat:{visitor_key}:{cid}"


def encode_payload(
    *,
    visitor: str,
    cid: str,
    text: str,
    uploads: Sequence[str] = (),
    name: str | None = None,
    email: str | None = None,
    external_id: str | None = None,
    verified: bool = False,
    conversation_id: int | None = None,
) -> bytes:
    return msgspec.json.encode(
        ChatPayload(
            v=1,
            visitor=visitor,
            cid=cid,
            text=text,
            uploads=list(uploads),
            name=name,
            email=email,
            external_id=external_id,
            verified=verified,
            conversation_id=conversation_id,
        )
    )


def _identities(p: ChatPayload) -> tuple[IdentityRef, ...]:
    if p.verified and p.external_id and p.email:
        return (
            identity("external", clean_text(p.external_id), verified=True),
            identity("email", p.email, verified=True),
        )
    if p.email:
        return (identity("email", p.email, verified=False),)
    return ()


def to_inbound(p: ChatPayload) -> InboundMessage:
    """Raises PayloadError (a ValueError) when the message cannot be used."""
    text = clean_text(p.text).strip()
    if not text:
        raise PayloadError("a chat message needs text")
    if len(text) > MAX_TEXT:
        raise PayloadError(f"a chat message has at most {MAX_TEXT:,} characters")
    meta: dict[str, Any] = {"chat_visitor": p.visitor, "chat_cid": p.cid}
    if p.uploads:
        meta["chat_uploads"] = list(p.uploads)
    name = " ".join(clean_text(p.name).split()) if p.name else ""
    return InboundMessage(
        channel=Channel.CHAT,
        provider_message_id=provider_id(p.visitor, p.cid),
        # The session token proved this visitor: the chat identity is theirs.
        sender=IdentityRef("chat", p.visitor, verified=True),
        also=_identities(p),
        sender_name=name or None,
        text=text,
        hints=ThreadHints(conversation_id=p.conversation_id),
        meta=meta,
    )


class ChatParser:
    offload = False  # a few µs of msgspec: cheaper than the thread hop

    def __call__(self, inbox: Inbox, body: bytes, context: Mapping[str, Any]) -> InboundMessage:
        try:
            payload = _decoder.decode(body)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # msgspec raises the latter too
            raise PayloadError(f"invalid chat message: {exc}") from exc
        except RecursionError as exc:
            raise PayloadError("invalid chat message: nested too deeply") from exc
        return to_inbound(payload)
