"""The shapes every layer agrees on.

Adapters produce these; actions consume them. Nothing here knows about a
provider, a database or a framework.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "Attachment",
    "AuthorType",
    "CallEvent",
    "Channel",
    "ConversationStatus",
    "DeliveryError",
    "DeliveryStatus",
    "Direction",
    "IdentityRef",
    "Ignored",
    "InboundMessage",
    "OutboundFile",
    "OutboundMessage",
    "ParseResult",
    "PayloadError",
    "StatusUpdate",
    "StoredFile",
    "ThreadHints",
]


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    VOICE = "voice"
    CHAT = "chat"
    WHATSAPP = "whatsapp"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    TELEGRAM = "telegram"
    API = "api"

    @property
    def has_own_threads(self) -> bool:
        """Email carries its own threading (headers, subjects); the others do not."""
        return self is Channel.EMAIL


class ConversationStatus(enum.StrEnum):
    OPEN = "open"
    PENDING = "pending"  # waiting on the customer
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"


class AuthorType(enum.StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"
    BOT = "bot"


class DeliveryStatus(enum.StrEnum):
    RECEIVED = "received"  # inbound messages
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class IdentityRef:
    """An address a customer is reached at, already normalized by core.identity."""

    kind: str  # email | phone | whatsapp | messenger | instagram | telegram | chat | external
    value: str
    verified: bool = True

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.value)

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass(frozen=True, slots=True)
class ThreadHints:
    """Facts an adapter found that may name an existing conversation.

    The adapter only reports them; core.continuity decides what they mean.
    """

    message_ids: tuple[str, ...] = ()  # email In-Reply-To + References, newest last
    reply_token: str | None = None  # from a reply+<token>@ address
    ticket_number: int | None = None  # from a "[#123]" subject reference
    subject: str | None = None  # the raw subject, if the channel has one
    conversation_id: int | None = None  # an API caller or a widget session naming it


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An attachment already in the content-addressed store (its bytes stay there)."""

    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes  # empty when ``stored``
    content_id: str | None = None  # for inline images referenced as cid:
    inline: bool = False
    stored: StoredFile | None = None

    @property
    def size(self) -> int:
        return self.stored.size if self.stored is not None else len(self.data)


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message from a customer, in the one shape every channel produces."""

    channel: Channel
    provider_message_id: str  # the dedup key within the inbox
    sender: IdentityRef
    text: str  # the new text, quotes and signature removed
    sender_name: str | None = None
    full_text: str | None = None  # the original text, when stripping removed something
    html: str | None = None  # sanitized
    attachments: tuple[Attachment, ...] = ()
    hints: ThreadHints = field(default_factory=ThreadHints)
    also: tuple[IdentityRef, ...] = ()  # other identities the message asserts
    sent_at: datetime | None = None
    warnings: tuple[str, ...] = ()  # shown on the message, e.g. a DMARC failure
    # provider facts kept with the message: the email Message-ID, MMS media URLs…
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A provider telling us what became of an outbound message.

    ``provider_message_ids`` are ids we recorded when sending (an email Message-ID,
    a Twilio MessageSid); ``message_id`` is ours when the provider echoes it back.
    """

    status: DeliveryStatus
    provider_message_ids: tuple[str, ...] = ()
    message_id: int | None = None
    error: str | None = None
    recipients: tuple[str, ...] = ()
    key: str | None = None  # the receipt's dedup key, e.g. "twilio-status:SM…:delivered"


@dataclass(frozen=True, slots=True)
class Ignored:
    """A payload we accepted but will not turn into a message, with the reason."""

    reason: str
    key: str | None = None  # the receipt's dedup key, when the provider names the event


@dataclass(frozen=True, slots=True)
class CallEvent:
    """What a telephony provider tells us about one call, at one moment.

    Several events arrive per call (started, ended, recording, transcription);
    each carries what it knows and ``key`` tells them apart for dedup.
    """

    call_id: str  # the provider's id for the call (Twilio CallSid)
    key: str  # unique per event, e.g. "CA…:completed" or "RE…" for a recording
    caller: IdentityRef  # the customer's side, whichever direction the call went
    direction: str  # inbound | outbound
    status: str | None = (
        None  # ringing | in-progress | completed | busy | no-answer | failed | canceled
    )
    duration_seconds: int | None = None
    answered: bool | None = None  # did an agent pick up?
    recording_url: str | None = None
    recording_seconds: int | None = None
    transcription: str | None = None
    voicemail: bool = False  # the recording is a voicemail, not a recorded conversation
    caller_name: str | None = None


ParseResult = InboundMessage | StatusUpdate | CallEvent | Ignored


@dataclass(frozen=True, slots=True)
class OutboundFile:
    """A file that goes out with a message: its bytes for channels that upload
    (email, Telegram) and a signed, expiring link for those that fetch (Twilio, Meta)."""

    filename: str
    content_type: str
    data: bytes
    url: str

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One queued message, with everything an adapter needs to send it."""

    message_id: int
    conversation_id: int
    channel: Channel
    recipient: str  # the identity value: an address, an E.164 number, a PSID…
    text: str
    html: str | None = None
    subject: str | None = None
    author_name: str | None = None
    # Email threading: our pre-assigned Message-ID and the ids it answers.
    provider_message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    reply_token: str | None = None  # for a reply+<token>@ Reply-To
    bounce_token: str | None = None  # for a bounce+<token>@ envelope sender
    auto_reply: bool = False
    # An approved provider template (WhatsApp outside its 24-hour window):
    # {"name", "language", "parameters"} as actions.replies.TemplateRef stores it.
    template: Mapping[str, Any] | None = None
    attachments: tuple[OutboundFile, ...] = ()
    # False for mail that starts something rather than answers (a chat transcript,
    # an alert to agents): its subject gets no "Re:".
    is_reply: bool = True


class PayloadError(ValueError):
    """The one error a parser declares: this payload cannot be used, and why.

    Anything else a parser raises is a bug in it; the bus quarantines the
    payload either way, so no input can stop ingest.
    """


class DeliveryError(Exception):
    """An adapter could not send. ``permanent`` means retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
