"""Realtime pushes, after commit: small id-only events on the topics pages watch.

The web hub renders each one once into the fragment the page shows (the same
code path that renders the page) and sends it to the tabs allowed to see it, so
nothing here decides what an agent may see and no payload carries content.

Topics: ``conversation:{id}``, ``customer:{id}``, ``inbox`` (list rows), and
``visitor:{id}`` for a widget visitor's sockets (web/widget/hub.py), which read
the visitor's events from the database: the push only wakes them.
"""

from __future__ import annotations

from typing import Any

from threadline.core.events import (
    ChatEventAdded,
    ChatReadByAgent,
    ConversationChanged,
    CustomersMerged,
    MessageReceived,
    MessageStatusChanged,
    SlaBreached,
    SlaWarning,
    TimelineEntryAdded,
)
from threadline.handlers.deps import HandlerDeps

__all__ = [
    "push_chat_event",
    "push_chat_read",
    "push_customer_change",
    "push_inbox_change",
    "push_message_status",
    "push_timeline_entry",
]


async def push_timeline_entry(event: TimelineEntryAdded, deps: HandlerDeps) -> None:
    data = {
        "type": "entry",
        "entry_id": event.entry_id,
        "conversation_id": event.conversation_id,
        "customer_id": event.customer_id,
        "changed": event.changed,
    }
    if event.conversation_id is not None:
        await deps.broker.publish(f"conversation:{event.conversation_id}", data)
    await deps.broker.publish(f"customer:{event.customer_id}", data)


async def push_inbox_change(
    event: MessageReceived | ConversationChanged | SlaWarning | SlaBreached, deps: HandlerDeps
) -> None:
    if isinstance(event, MessageReceived):
        # Each inbound message is triaged with it: an open conversation's head redraws.
        new, changes = event.new_conversation, ["message", "triage"]
    elif isinstance(event, SlaWarning | SlaBreached):
        new, changes = False, ["sla"]
    else:
        new, changes = False, list(event.changes)
    data: dict[str, Any] = {
        "type": "row",
        "conversation_id": event.conversation_id,
        "new_conversation": new,
        "changes": changes,
    }
    await deps.broker.publish("inbox", data)


async def push_message_status(event: MessageStatusChanged, deps: HandlerDeps) -> None:
    await deps.broker.publish(
        f"conversation:{event.conversation_id}",
        {
            "type": "status",
            "message_id": event.message_id,
            "conversation_id": event.conversation_id,
            "status": event.status,
            "error": event.error,
        },
    )


async def push_customer_change(event: CustomersMerged, deps: HandlerDeps) -> None:
    for customer_id in (event.source_id, event.target_id):
        await deps.broker.publish(
            f"customer:{customer_id}",
            {"type": "customer", "customer_id": customer_id, "undone": event.undone},
        )


async def push_chat_event(event: ChatEventAdded, deps: HandlerDeps) -> None:
    await deps.broker.publish(
        f"visitor:{event.visitor_id}",
        {"type": "chat_event", "visitor_id": event.visitor_id, "seq": event.seq},
    )


async def push_chat_read(event: ChatReadByAgent, deps: HandlerDeps) -> None:
    await deps.broker.publish(
        f"visitor:{event.visitor_id}",
        {"type": "chat_read", "visitor_id": event.visitor_id, "seq": event.seq},
    )
