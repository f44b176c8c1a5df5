"""Merging two conversations of one customer: the same matter, opened twice.

A merge is final. Undoing it would need the ids of every row moved (a
conversation of 500 messages: a 500-id record) and a rule for what arrived
since; customer merges keep such a record because linking two people wrongly
leaks one's history to the other, while a merged conversation stays with its
own customer. The UI asks for confirmation instead.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from threadline.actions.chat_hooks import rebind_visitors
from threadline.actions.errors import ActionError, NotFound
from threadline.actions.sla_clock import sync_clocks
from threadline.actions.timeline import add_entry
from threadline.core.events import ConversationChanged
from threadline.core.model import ConversationStatus
from threadline.core.tags import MAX_TAGS
from threadline.storage.db import Tx
from threadline.storage.tables import (
    calls,
    conversation_tags,
    conversations,
    messages,
    tasks,
    timeline_entries,
)

__all__ = ["merge_conversations"]


def _load(tx: Tx, conversation_id: int) -> sa.Row[Any]:
    row = tx.conn.execute(
        sa.select(conversations).where(conversations.c.id == conversation_id)
    ).first()
    if row is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return row


def _tags(tx: Tx, conversation_id: int) -> set[str]:
    q = sa.select(conversation_tags.c.tag).where(
        conversation_tags.c.conversation_id == conversation_id
    )
    return set(tx.conn.execute(q).scalars())


def _later(a: Any, b: Any) -> Any:
    return a if b is None or (a is not None and a >= b) else b


def _earliest(*times: Any) -> Any:
    known = [t for t in times if t is not None]
    return min(known) if known else None


def merge_conversations(tx: Tx, *, source_id: int, target_id: int, actor_id: int | None) -> int:
    """Move the source's messages, timeline, calls, tasks and tags into the target,
    and resolve the source with an entry naming the target. Returns the number of
    messages moved. The caller checks both are in scope."""
    if source_id == target_id:
        raise ActionError("a conversation cannot be merged into itself")
    source, target = _load(tx, source_id), _load(tx, target_id)
    if source.customer_id != target.customer_id:
        raise ActionError("only conversations of the same customer can be merged")
    kept = _tags(tx, target_id)
    tags = _tags(tx, source_id) - kept
    if len(tags) + len(kept) > MAX_TAGS:
        raise ActionError(f"together the two have more than {MAX_TAGS} tags: remove some first")

    moved = tx.conn.execute(
        messages.update()
        .where(messages.c.conversation_id == source_id)
        .values(conversation_id=target_id)
    ).rowcount
    for table in (timeline_entries, calls, tasks):
        tx.conn.execute(
            table.update()
            .where(table.c.conversation_id == source_id)
            .values(conversation_id=target_id)
        )
    tx.conn.execute(
        conversation_tags.delete().where(conversation_tags.c.conversation_id == source_id)
    )
    if tags:
        tx.conn.execute(
            conversation_tags.insert(),
            [{"conversation_id": target_id, "tag": t} for t in sorted(tags)],
        )

    inbound_later = source.last_inbound_at is not None and (
        target.last_inbound_at is None or source.last_inbound_at > target.last_inbound_at
    )
    waits = [w for w in (source.waiting_since, target.waiting_since) if w is not None]
    # One wait, owed the earlier of the two answers: a next response once either was
    # answered. The earlier resolution holds too.
    answered = _earliest(source.first_response_at, target.first_response_at)
    response_due = _earliest(
        source.first_response_due_at,
        source.next_response_due_at,
        target.first_response_due_at,
        target.next_response_due_at,
    )
    tx.conn.execute(
        conversations.update()
        .where(conversations.c.id == target_id)
        .values(
            last_activity_at=_later(source.last_activity_at, target.last_activity_at),
            last_inbound_at=source.last_inbound_at if inbound_later else target.last_inbound_at,
            last_inbound_channel=(
                source.last_inbound_channel if inbound_later else target.last_inbound_channel
            ),
            # The customer has waited since the older of the two unanswered messages.
            waiting_since=min(waits) if waits else None,
            first_response_at=answered,
            last_agent_at=_later(source.last_agent_at, target.last_agent_at),
            first_response_due_at=response_due if answered is None else None,
            next_response_due_at=response_due if answered is not None else None,
            resolution_due_at=_earliest(source.resolution_due_at, target.resolution_due_at),
            updated_at=tx.now,
        )
    )
    tx.conn.execute(
        conversations.update()
        .where(conversations.c.id == source_id)
        .values(
            status=ConversationStatus.RESOLVED.value,
            status_changed_at=tx.now,
            resolved_at=tx.now,
            snoozed_until=None,
            waiting_since=None,
            first_response_due_at=None,
            next_response_due_at=None,
            resolution_due_at=None,
            paused_at=None,
            updated_at=tx.now,
        )
    )
    rebind_visitors(tx, source_id, target_id)  # after both conversations' row locks
    # The source's clocks stop; the target's run to the earlier of the two due times.
    sync_clocks(tx, source_id)
    sync_clocks(tx, target_id)
    data = {
        "source_id": source_id,
        "target_id": target_id,
        "messages": moved,
        "from_status": source.status,
        "by": actor_id,
    }
    for conversation_id in (source_id, target_id):
        add_entry(
            tx,
            customer_id=target.customer_id,
            conversation_id=conversation_id,
            kind="conversation_merged",
            data=data,
        )
    tx.emit(ConversationChanged(source_id, ("status", "merged")))
    tx.emit(ConversationChanged(target_id, ("merged", "last_message", "tags")))
    return int(moved)
