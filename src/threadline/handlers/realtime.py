"""Realtime pushes: exactly the timeline entries and list changes the UI renders."""

from __future__ import annotations

from typing import Any

from threadline.core.events import (
    ConversationChanged,
    CustomersMerged,
    MessageReceived,
    MessageStatusChanged,
    TimelineEntryAdded,
)
from threadline.handlers.deps import HandlerDeps

__all__ = [
    "push_customer_change",
    "push_inbox_change",
    "push_message_status",
    "push_timeline_entry",
]


async def push_timeline_entry(event: TimelineEntryAdded, deps: HandlerDeps) -> None:
    data = {
        "type": "timeline_entry",
        "entry_id": event.entry_id,
        "customer_id": event.customer_id,
        "conversation_id": event.conversation_id,
        "kind": event.kind,
        "changed": event.changed,
    }
    await deps.broker.publish(f"customer:{event.customer_id}", data)
    if event.conversation_id is not None:
        await deps.broker.publish(f"conversation:{event.conversation_id}", data)


async def push_inbox_change(
    event: MessageReceived | ConversationChanged, deps: HandlerDeps
) -> None:
    data: dict[str, Any] = {
        "type": "conversation_changed",
        "conversation_id": event.conversation_id,
    }
    await deps.broker.publish("inbox", data)


async def push_message_status(event: MessageStatusChanged, deps: HandlerDeps) -> None:
    await deps.broker.publish(
        f"conversation:{event.conversation_id}",
        {
            "type": "message_status",
            "message_id": event.message_id,
            "status": event.status,
            "error": event.error,
        },
    )


async def push_customer_change(event: CustomersMerged, deps: HandlerDeps) -> None:
    for customer_id in (event.source_id, event.target_id):
        await deps.broker.publish(
            f"customer:{customer_id}",
            {"type": "customer_changed", "customer_id": customer_id, "merge_undone": event.undone},
        )
