"""What happens after commit, in one table: event type → handlers, in order.

Handlers must be cheap and must not fail the request that caused them: work
that matters durably (delivery, timers) was already enqueued in the job table
by the action, so a handler only pushes, wakes or counts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from threadline.core.events import (
    ChatEventAdded,
    ChatReadByAgent,
    ConversationChanged,
    CustomersMerged,
    MessageReceived,
    MessageStatusChanged,
    ReplyQueued,
    SlaBreached,
    SlaWarning,
    TimelineEntryAdded,
)
from threadline.handlers import delivery, metrics, realtime
from threadline.handlers.deps import HandlerDeps

__all__ = ["HANDLERS", "Handler", "HandlerDeps"]

Handler = Callable[[Any, HandlerDeps], Awaitable[None]]

HANDLERS: Mapping[type, tuple[Handler, ...]] = {
    TimelineEntryAdded: (realtime.push_timeline_entry,),
    MessageReceived: (metrics.count_inbound, realtime.push_inbox_change),
    ReplyQueued: (delivery.wake_runner,),
    MessageStatusChanged: (realtime.push_message_status,),
    ConversationChanged: (realtime.push_inbox_change,),
    CustomersMerged: (realtime.push_customer_change,),
    ChatEventAdded: (realtime.push_chat_event,),
    ChatReadByAgent: (realtime.push_chat_read,),
    # The timeline entry of a warning or breach is pushed as any entry is; the
    # inbox row shows its badge. The rules engine hangs its run off these two.
    SlaWarning: (realtime.push_inbox_change,),
    SlaBreached: (realtime.push_inbox_change,),
}
