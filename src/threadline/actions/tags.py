"""Tags on a conversation: added and removed by agents, at most MAX_TAGS each."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from threadline.actions.errors import ActionError, NotFound
from threadline.actions.timeline import add_entry
from threadline.core.tags import MAX_TAGS, InvalidTag, normalize_tags
from threadline.storage.db import Tx
from threadline.storage.tables import conversation_tags, conversations

__all__ = ["change_tags"]


def change_tags(
    tx: Tx,
    conversation_id: int,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    actor_id: int | None,
) -> bool:
    """Add and remove tags (normalized: core/tags.py); returns whether any changed.

    A tag both added and removed is removed. The caller emits ConversationChanged.
    """
    if len(add) > MAX_TAGS or len(remove) > MAX_TAGS:
        raise ActionError(f"add or remove at most {MAX_TAGS} tags at once")
    try:
        adding, removing = normalize_tags(add), normalize_tags(remove)
    except InvalidTag as exc:
        raise ActionError(str(exc)) from exc
    customer_id = tx.conn.execute(
        sa.select(conversations.c.customer_id).where(conversations.c.id == conversation_id)
    ).scalar()
    if customer_id is None:
        raise NotFound(f"conversation {conversation_id} not found")
    current = set(
        tx.conn.execute(
            sa.select(conversation_tags.c.tag).where(
                conversation_tags.c.conversation_id == conversation_id
            )
        ).scalars()
    )
    added = [t for t in adding if t not in current and t not in removing]
    removed = [t for t in removing if t in current]
    if len(current) + len(added) - len(removed) > MAX_TAGS:
        raise ActionError(f"a conversation has at most {MAX_TAGS} tags")
    if not added and not removed:
        return False
    if added:
        tx.conn.execute(
            conversation_tags.insert(),
            [{"conversation_id": conversation_id, "tag": t} for t in added],
        )
    if removed:
        tx.conn.execute(
            conversation_tags.delete().where(
                conversation_tags.c.conversation_id == conversation_id,
                conversation_tags.c.tag.in_(removed),
            )
        )
    add_entry(
        tx,
        customer_id=customer_id,
        conversation_id=conversation_id,
        kind="tags_changed",
        data={"added": sorted(added), "removed": sorted(removed), "by": actor_id},
    )
    return True
