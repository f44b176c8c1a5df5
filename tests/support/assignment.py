"""Helpers for the assignment tests: agents with settings, inboxes that assign,
and a chat or API customer writing in."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tests.support.factories import make_inbox
from tests.support.inbox import write
from threadline.actions.assignment_settings import set_agent_assignment, set_inbox_assignment
from threadline.actions.chat import open_session
from threadline.actions.receipts import Payload
from threadline.actions.users import add_user
from threadline.bootstrap import Container
from threadline.channels.chat.parse import encode_payload
from threadline.storage.tables import assignment_queue, conversations

__all__ = [
    "agent",
    "assignee",
    "chat",
    "chat_inbox",
    "configure_inbox",
    "online",
    "queued_reason",
    "write",
]


async def agent(
    c: Container,
    name: str,
    *,
    capacity: dict[str, int] | None = None,
    skills: list[str] | None = None,
    shifts: dict[str, Any] | None = None,
) -> int:
    email = f"{name.lower()}@acme.test"

    def build(tx: Any) -> int:
        user_id = add_user(tx, email=email, name=name, role="agent", password_hash=None, actor="t")
        if capacity or skills or shifts:
            set_agent_assignment(
                tx, user_id, capacity=capacity or {}, skills=skills or [], shifts=shifts, actor="t"
            )
        return user_id

    return await c.bus.execute(build)


async def configure_inbox(c: Container, inbox_id: int, strategy: str, **kw: Any) -> None:
    await c.bus.execute(
        lambda tx: set_inbox_assignment(
            tx,
            inbox_id,
            strategy=strategy,
            sticky=kw.get("sticky", True),
            skills=kw.get("skills", []),
            level2_team_id=kw.get("level2_team_id"),
            batch_times=kw.get("batch_times", []),
            batch_timezone=kw.get("batch_timezone", "UTC"),
            actor="t",
        )
    )


async def online(c: Container, *user_ids: int) -> None:
    for user_id in user_ids:
        await c.presence.beat(user_id, "tab-1", active=True)


async def chat_inbox(c: Container) -> int:
    return await make_inbox(c, "chat", "Acme chat", "chat_acme", {})


async def chat(c: Container, inbox_id: int, text: str = "hello") -> int:
    """A new visitor starts a chat; returns the conversation id."""
    session = await c.bus.execute(lambda tx: open_session(tx, inbox_id=inbox_id, token=None))
    body = encode_payload(visitor=session.key, cid=f"cid-{session.visitor_id:012d}", text=text)
    outcome = await c.bus.ingest(Payload(inbox_id, "chat", body, {}))
    assert outcome.status == "processed", outcome
    assert outcome.conversation_id is not None
    return outcome.conversation_id


async def assignee(c: Container, conversation_id: int) -> int | None:
    return await c.db.read(
        lambda conn: conn.execute(
            sa.select(conversations.c.assignee_id).where(conversations.c.id == conversation_id)
        ).scalar()
    )


async def queued_reason(c: Container, conversation_id: int) -> str | None:
    """Why the conversation still waits; "" when queued and not yet tried; None when
    not queued at all."""
    found = await c.db.read(
        lambda conn: conn.execute(
            sa.select(assignment_queue.c.reason).where(
                assignment_queue.c.conversation_id == conversation_id
            )
        ).first()
    )
    return None if found is None else (found.reason or "")
