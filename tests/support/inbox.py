"""Helpers for the inbox and conversation-action tests: a customer writes, an agent
answers or changes a conversation, and the inbox row is read as the UI reads it."""

from __future__ import annotations

from itertools import count
from typing import Any

from tests.support.factories import deliver_api, deliver_email, make_email
from threadline.actions.conversations import update_conversation
from threadline.actions.receipts import ReceiptOutcome
from threadline.actions.replies import send_reply
from threadline.bootstrap import Container
from threadline.queries.inbox import InboxPage, list_inbox, row_by_id
from threadline.queries.scope import EVERYTHING, Scope

__all__ = ["change", "email", "inbox", "reply", "row", "write"]

_ids = count(1)


async def write(c: Container, inbox_id: int, who: str, text: str = "hello") -> ReceiptOutcome:
    """``who`` writes through the API channel: their latest open conversation, or a new one."""
    body = {"id": f"m{next(_ids)}", "customer": {"external_id": who}, "text": text}
    out = await deliver_api(c, inbox_id, body)
    assert out.status == "processed", out
    return out


async def email(
    c: Container, inbox_id: int, subject: str, body: str, sender: str = "ana@example.com"
) -> int:
    """``sender`` emails the inbox; returns the conversation it went to (a new
    subject is a new matter: a conversation of its own)."""
    raw, _ = make_email(sender=sender, subject=subject, body=body)
    out = await deliver_email(c, inbox_id, raw)
    assert out.conversation_id is not None
    return out.conversation_id


async def reply(
    c: Container, conversation_id: int, author_id: int | None, text: str, *, note: bool = False
) -> None:
    await c.bus.execute(
        lambda tx: send_reply(
            tx,
            c.bus.cfg,
            conversation_id=conversation_id,
            author_id=author_id,
            text=text,
            note=note,
        )
    )


async def change(
    c: Container, conversation_id: int, actor_id: int | None, **changes: Any
) -> tuple[tuple[str, ...], list[Any]]:
    """``update_conversation`` in a transaction: what changed, and the events recorded."""
    return await c.db.write(
        lambda tx: update_conversation(tx, conversation_id, actor_id=actor_id, **changes)
    )


async def row(
    c: Container, conversation_id: int, viewer_id: int, scope: Scope = EVERYTHING
) -> dict[str, Any] | None:
    return await c.db.read(
        lambda conn: row_by_id(conn, conversation_id, scope=scope, viewer_id=viewer_id)
    )


async def inbox(c: Container, viewer_id: int, scope: Scope = EVERYTHING, **kw: Any) -> InboxPage:
    return await c.db.read(lambda conn: list_inbox(conn, scope=scope, viewer_id=viewer_id, **kw))
