"""The conversation's actions bar: status, snooze, assignment, priority, level,
tags and merge, each one form that posts to one action and answers with the
bar redrawn (htmx) or a redirect back (no JavaScript)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template
from sqlalchemy.engine import Connection

from threadline.actions.assignment import escalate
from threadline.actions.config import ActionConfig
from threadline.actions.conversation_merge import merge_conversations
from threadline.actions.conversations import update_conversation
from threadline.actions.errors import ActionError, NotFound
from threadline.core.model import ConversationStatus
from threadline.queries.assignment import assignable_users
from threadline.queries.inbox import row_by_id
from threadline.queries.intake import conversation_intake
from threadline.queries.scope import Scope, access_conversation
from threadline.queries.triage import latest_triage
from threadline.storage.db import Tx
from threadline.storage.tables import conversations, teams, users
from threadline.web.api.params import Id
from threadline.web.ui.common import (
    Agent,
    Req,
    container,
    is_htmx,
    require_signed_in,
    require_writer,
)

__all__ = ["ROUTES", "apply_and_redraw", "head_context", "render_head"]

MAX_SIBLINGS = 50


def _assignable(conn: Connection, inbox_id: int | None) -> dict[str, Any]:
    """Who can take it: active agents and admins who can see its inbox; every team."""
    agents = assignable_users(conn, inbox_id)
    all_teams = conn.execute(sa.select(teams.c.id, teams.c.name).order_by(teams.c.name)).all()
    return {
        "agents": [(a.id, a.name) for a in agents],
        "teams": [dict(t._mapping) for t in all_teams],
    }


def _siblings(conn: Connection, convo: dict[str, Any], scope: Scope) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(
            conversations.c.id,
            conversations.c.subject,
            conversations.c.status,
            conversations.c.inbox_id,
        )
        .where(
            conversations.c.customer_id == convo["customer_id"],
            conversations.c.id != convo["id"],
        )
        .order_by(conversations.c.last_activity_at.desc())
        .limit(MAX_SIBLINGS)
    ).all()
    return [dict(r._mapping) for r in rows if scope.allows_inbox(r.inbox_id)]


def head_context(
    conn: Connection, conversation_id: int, agent: Agent, cfg: ActionConfig
) -> dict[str, Any]:
    """What the conversation's head shows. It is redrawn on every customer message
    (hub.py pushes "refresh"), so the intake beside the triage decision stays current."""
    convo = row_by_id(conn, conversation_id, scope=agent.scope, viewer_id=agent.id)
    if convo is None:
        raise NotFoundException("conversation not found")
    triage = latest_triage(conn, conversation_id)
    if triage is not None and triage["corrected_by_id"] is not None:
        triage["corrected_by"] = conn.execute(
            sa.select(users.c.name).where(users.c.id == triage["corrected_by_id"])
        ).scalar()
    return {
        "convo": convo,
        "assignable": _assignable(conn, convo.get("inbox_id")),
        "siblings": _siblings(conn, convo, agent.scope),
        "triage": triage,
        "intake": conversation_intake(conn, conversation_id, cfg.intakes.current(conn, cfg.intake)),
    }


async def render_head(request: Req, agent: Agent, conversation_id: int, **extra: Any) -> Template:
    c = container(request)
    context = await c.db.read(lambda conn: head_context(conn, conversation_id, agent, c.bus.cfg))
    status = 422 if extra.get("error") else 200
    return Template(
        "ui/_head.html", context={"agent": agent, **context, **extra}, status_code=status
    )


@get("/ui/conversations/{conversation_id:int}/head", include_in_schema=False)
async def head(request: Req, conversation_id: Id) -> Template:
    agent = await require_signed_in(request)
    return await render_head(request, agent, conversation_id)


def _when(form: dict[str, str], now: datetime) -> datetime | None:
    """The snooze time: the instant the page computed in the agent's zone, or (no
    JavaScript) the wall time as UTC."""
    raw = form.get("snooze_at") or form.get("snooze_until") or ""
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ActionError("pick a time to snooze until") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _changes(form: dict[str, str], now: datetime) -> dict[str, Any]:
    """The form, as update_conversation's arguments; every value is checked there."""
    out: dict[str, Any] = {}
    status = form.get("status")
    if status == "snoozed":
        out["snoozed_until"] = _when(form, now)
    elif status:
        try:
            out["status"] = ConversationStatus(status)
        except ValueError:
            raise ActionError("unknown status") from None
    assign = form.get("assign")
    if assign == "none":
        out.update(unassign=True, unassign_team=True)
    elif assign:
        kind, _, raw = assign.partition(":")
        if not (raw.isdigit() and len(raw) < 19 and kind in ("user", "team")):
            raise ActionError("pick someone from the list")
        out["assignee_id" if kind == "user" else "team_id"] = int(raw)
        if kind == "team":
            out["unassign"] = True
    if form.get("priority"):
        out["priority"] = form["priority"]
    level = form.get("escalation_level", "")
    if level:
        if level not in ("1", "2"):
            raise ActionError("the escalation level is 1 or 2")
        out["escalation_level"] = int(level)
    if form.get("tag_add"):
        out["add_tags"] = [form["tag_add"]]
    if form.get("tag_remove"):
        out["remove_tags"] = [form["tag_remove"]]
    return out


Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


async def _act(
    request: Req, agent: Agent, conversation_id: int, change: Callable[[Tx], object]
) -> Template | Redirect:
    """Run one change in scope; answer with the bar redrawn (htmx, an error shown in
    it) or a redirect back to the page."""

    def apply(tx: Tx) -> object:
        access_conversation(tx.conn, agent.scope, conversation_id)
        return change(tx)

    return await apply_and_redraw(request, agent, conversation_id, apply)


async def apply_and_redraw(
    request: Req, agent: Agent, conversation_id: int, apply: Callable[[Tx], object]
) -> Template | Redirect:
    """Run one form's action; answer htmx with the head redrawn (with the refusal, if
    the action refused), a plain form with a redirect back to the page."""
    try:
        await container(request).bus.execute(apply)
    except NotFound:
        raise
    except ActionError as exc:
        if is_htmx(request):
            return await render_head(request, agent, conversation_id, error=str(exc))
        raise
    if not is_htmx(request):
        return Redirect(f"/conversations/{conversation_id}")
    return await render_head(request, agent, conversation_id)


@post("/ui/conversations/{conversation_id:int}/update", include_in_schema=False, status_code=200)
async def update(request: Req, conversation_id: Id, data: Form) -> Template | Redirect:
    agent = await require_writer(request)
    return await _act(
        request,
        agent,
        conversation_id,
        lambda tx: update_conversation(
            tx, conversation_id, actor_id=agent.id, **_changes(data, tx.now)
        ),
    )


@post("/ui/conversations/{conversation_id:int}/escalate", include_in_schema=False, status_code=200)
async def escalate_to_level_2(request: Req, conversation_id: Id) -> Template | Redirect:
    """Level 2: the inbox's level-2 team takes it (actions/assignment.py)."""
    agent = await require_writer(request)
    return await _act(
        request,
        agent,
        conversation_id,
        lambda tx: escalate(tx, conversation_id, actor_id=agent.id),
    )


@post("/ui/conversations/{conversation_id:int}/merge", include_in_schema=False, status_code=200)
async def merge(request: Req, conversation_id: Id, data: Form) -> Redirect:
    """Merge another conversation of the same customer into this one (final: the
    page asks to confirm)."""
    agent = await require_writer(request)
    raw = data.get("source_id", "")
    if not (raw.isdigit() and len(raw) < 19):
        raise ActionError("pick the conversation to merge in")
    source_id = int(raw)

    def apply(tx: Tx) -> int:
        access_conversation(tx.conn, agent.scope, conversation_id)
        access_conversation(tx.conn, agent.scope, source_id)
        return merge_conversations(
            tx, source_id=source_id, target_id=conversation_id, actor_id=agent.id
        )

    await container(request).bus.execute(apply)
    return Redirect(f"/conversations/{conversation_id}")


ROUTES = [head, update, escalate_to_level_2, merge]
