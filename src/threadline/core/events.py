"""Domain events: past-tense facts recorded by actions, handled after commit.

handlers/__init__.py maps each one to what happens next, in one table.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
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


Event = (
    TimelineEntryAdded
    | MessageReceived
    | ReplyQueued
    | MessageStatusChanged
    | ConversationChanged
    | CustomersMerged
)
