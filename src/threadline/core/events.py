"""Domain events: past-tense facts recorded by actions, handled after commit.

handlers/__init__.py maps each one to what happens next, in one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "ChatEventAdded",
    "ChatReadByAgent",
    "ConversationChanged",
    "CustomersMerged",
    "Event",
    "MessageReceived",
    "MessageStatusChanged",
    "ReplyQueued",
    "SlaBreached",
    "SlaWarning",
    "TimelineEntryAdded",
]


@dataclass(frozen=True, slots=True)
class TimelineEntryAdded:
    entry_id: int
    customer_id: int
    conversation_id: int | None
    kind: str
    changed: bool = False  # an existing entry filled in (a call got its recording)


@dataclass(frozen=True, slots=True)
class MessageReceived:
    message_id: int
    conversation_id: int
    customer_id: int
    channel: str
    new_conversation: bool


@dataclass(frozen=True, slots=True)
class ReplyQueued:
    message_id: int
    conversation_id: int
    channel: str


@dataclass(frozen=True, slots=True)
class MessageStatusChanged:
    message_id: int
    conversation_id: int
    status: str
    error: str | None


@dataclass(frozen=True, slots=True)
class ConversationChanged:
    conversation_id: int
    changes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CustomersMerged:
    source_id: int
    target_id: int
    undone: bool = False


@dataclass(frozen=True, slots=True)
class ChatEventAdded:
    """A widget visitor has a new event to show (chat_events row ``seq``)."""

    visitor_id: int
    seq: int


@dataclass(frozen=True, slots=True)
class ChatReadByAgent:
    """An agent has read a visitor's chat up to ``seq`` (the widget's read ticks)."""

    visitor_id: int
    seq: int


@dataclass(frozen=True, slots=True)
class SlaWarning:
    """A response target (``clock``: first_response, …) is due soon and still open.

    Recorded once per due time by its timer (actions/sla_clock.py); ``fired_at``
    is the clock's time when it fired, a little after ``warn_at``."""

    conversation_id: int
    clock: str
    due_at: datetime
    fired_at: datetime


@dataclass(frozen=True, slots=True)
class SlaBreached:
    """A response target passed its due time unanswered (once per due time)."""

    conversation_id: int
    clock: str
    due_at: datetime
    fired_at: datetime


Event = (
    TimelineEntryAdded
    | MessageReceived
    | ReplyQueued
    | MessageStatusChanged
    | ConversationChanged
    | CustomersMerged
    | ChatEventAdded
    | ChatReadByAgent
    | SlaWarning
    | SlaBreached
)
