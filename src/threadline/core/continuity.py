"""Which conversation does an inbound message continue?

This is the decision that makes Threadline one timeline instead of one inbox per
channel, so it lives here, pure, and is tested as a table. The caller looks up
the candidates (the customer's recent conversations and whatever the thread
hints point at); this module only decides.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from threadline.core.model import Channel, ConversationStatus

__all__ = [
    "Candidate",
    "Decision",
    "HintKind",
    "Hinted",
    "Policy",
    "normalize_subject",
    "pick_conversation",
]

_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|tr|rv|r)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
_TICKET = re.compile(r"\[#\d+\]")
_SPACE = re.compile(r"\s+")


def normalize_subject(subject: str | None) -> str:
    """'RE: Fwd: [#12] Order  late' and 'order late' are the same matter."""
    if not subject:
        return ""
    text = _TICKET.sub(" ", subject)
    text = _PREFIX.sub("", text)
    return _SPACE.sub(" ", text).strip().lower()


@dataclass(frozen=True, slots=True)
class Policy:
    reopen_window: timedelta = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    customer_id: int
    status: ConversationStatus
    subject_key: str  # normalize_subject() of the conversation's subject
    last_activity_at: datetime
    resolved_at: datetime | None = None


class HintKind(enum.StrEnum):
    MESSAGE_ID = "message_id"  # email In-Reply-To / References matched a stored message
    REPLY_TOKEN = "reply_token"  # noqa: S105 - a hint kind: a signed reply+<token>@ address
    TICKET_NUMBER = "ticket_number"  # "[#123]" in the subject
    SESSION = "session"  # an authenticated caller (API, widget session) named it


@dataclass(frozen=True, slots=True)
class Hinted:
    kind: HintKind
    conversation: Candidate


@dataclass(frozen=True, slots=True)
class Decision:
    conversation_id: int | None  # None: start a new conversation
    reopen: bool
    reason: str


# Only a signed reply+<token>@ address proves, on its own, that the sender was
# given the thread: a colleague who answers our mail ("reply all" goes to that
# address) belongs in it. Every other hint counts only from the conversation's
# own customer: "[#123]" is guessable; a Message-ID in References may be one the
# customer's mail client chose (guessable, and seen by everyone on CC), and an
# API caller naming a conversation_id has proved nothing about who owns it.
_HINT_ORDER = (HintKind.SESSION, HintKind.REPLY_TOKEN, HintKind.MESSAGE_ID, HintKind.TICKET_NUMBER)
_SECRET_HINTS = frozenset({HintKind.REPLY_TOKEN})


def _still_open(c: Candidate) -> bool:
    return c.status is not ConversationStatus.RESOLVED


def _reopenable(c: Candidate, now: datetime, policy: Policy) -> bool:
    return c.resolved_at is not None and now - c.resolved_at <= policy.reopen_window


def _continue(c: Candidate, now: datetime, policy: Policy, why: str) -> Decision | None:
    if _still_open(c):
        return Decision(c.id, False, why)
    if _reopenable(c, now, policy):
        return Decision(c.id, True, f"{why}; reopened within the window")
    return None


def pick_conversation(
    *,
    channel: Channel,
    customer_id: int | None,
    sender_verified: bool,
    subject: str | None,
    hinted: Sequence[Hinted],
    candidates: Sequence[Candidate],
    now: datetime,
    policy: Policy | None = None,
) -> Decision:
    """Decide which conversation a message continues.

    ``candidates`` are the customer's own conversations (any channel); ``hinted``
    are conversations the message's thread hints point at, which may belong to
    someone else. ``customer_id`` is None for a customer created by this message.
    """
    policy = policy or Policy()
    for kind in _HINT_ORDER:
        for h in hinted:
            if h.kind is not kind:
                continue
            own = customer_id is not None and h.conversation.customer_id == customer_id
            if not own and (kind not in _SECRET_HINTS or not sender_verified):
                continue
            decided = _continue(h.conversation, now, policy, f"thread hint: {kind.value}")
            if decided is not None:
                return decided
    if customer_id is None:
        return Decision(None, False, "new customer")

    mine = sorted(
        (c for c in candidates if c.customer_id == customer_id),
        key=lambda c: c.last_activity_at,
        reverse=True,
    )
    if channel.has_own_threads:
        key = normalize_subject(subject)
        mine = [c for c in mine if key and c.subject_key == key]
        why = "same subject"
    else:
        why = "latest conversation"
    for c in mine:
        if _still_open(c):
            return Decision(c.id, False, f"{why}, unresolved")
    for c in mine:
        if _reopenable(c, now, policy):
            return Decision(c.id, True, f"{why}, resolved within the reopen window")
    return Decision(None, False, "no conversation to continue")
