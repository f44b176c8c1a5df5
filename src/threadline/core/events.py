"""Domain events: past-tense facts recorded by actions, handled after commit.

handlers/__init__.py maps each one to what happens next, in one table.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ChatEventAdded",
    "ChatReadByAgent",
    "ConversationChanged",
    "CustomersMerged",
    "Event",
    "MessageReceived",
    "MessageStatusChanged",
    "ReplyQueued",
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


Event = (
    TimelineEntryAdded
    | MessageReceived
    | ReplyQueued
    | MessageStatusChanged
    | ConversationChanged
    | CustomersMerged
    | ChatEventAdded
    | ChatReadByAgent
)
