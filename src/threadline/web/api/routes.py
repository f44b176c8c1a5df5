"""The REST API under /api/v1: conversations (customers and search have modules
of their own). Views parse, call one action or query, and shape."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Response, get, patch, post
from litestar.exceptions import ValidationException
from litestar.params import FromQuery, JSONBody, Parameter

from threadline.actions.conversations import update_conversation
from threadline.actions.replies import TemplateRef, send_reply
from threadline.core.model import Channel, ConversationStatus
from threadline.queries.conversations import (
    conversation_detail,
    conversation_messages,
    list_conversations,
)
from threadline.queries.scope import (
    access_conversation,
)
from threadline.web.api.common import Req, container_of, found_or_404, scope_of
from threadline.web.api.paging import PAGED, decode_cursor, page
from threadline.web.api.params import MAX_ID, Cursor, Id, OptionalId, page_size
from threadline.web.auth import require_agent
from threadline.web.schemas import (
    ChannelName,
    Conversation,
    ConversationPatch,
    Message,
    Priority,
    ReplyIn,
    ReplyResult,
    Status,
    to_model,
)

__all__ = ["ROUTES"]


# -- conversations --------------------------------------------------------------------
@get(
    "/conversations",
    response_headers=PAGED,
    summary="List conversations with filters, most recent activity first",
)
async def get_conversations(
    request: Req,
    status: FromQuery[Status | None] = None,
    assignee_id: OptionalId = None,
    unassigned: FromQuery[bool] = False,
    customer_id: OptionalId = None,
    channel: FromQuery[ChannelName | None] = None,
    priority: FromQuery[Priority | None] = None,
    cursor: Cursor = None,
    limit: Annotated[int, page_size(50, 200)] = 50,
    before: Annotated[int | None, Parameter(include_in_schema=False)] = None,
) -> Response[list[Conversation]]:
    if before is not None:
        # It paged by id through a list ordered by activity: refuse it rather
        # than ignore it, or an old client would fetch the first page for ever.
        raise ValidationException("before= is gone: pass the X-Next-Cursor header as cursor=")
    after = decode_cursor(cursor, tuple[datetime, int])
    scope = await scope_of(request)
    rows = await container_of(request).db.read(
        lambda conn: list_conversations(
            conn,
            scope=scope,
            status=status,
            assignee_id=assignee_id,
            unassigned=unassigned,
            customer_id=customer_id,
            channel=channel,
            priority=priority,
            cursor=after,
            limit=limit + 1,
        )
    )
    return page(rows, limit, lambda r: (r["last_activity_at"], r["id"]), Conversation)


@get("/conversations/{conversation_id:int}", summary="One conversation")
async def get_conversation(request: Req, conversation_id: Id) -> Conversation:
    scope = await scope_of(request)
    row = await container_of(request).db.read(
        lambda conn: conversation_detail(conn, conversation_id, scope=scope)
    )
    return to_model(found_or_404(row, "conversation"), Conversation)


@patch(
    "/conversations/{conversation_id:int}",
    guards=[require_agent],
    summary="Change status, priority or assignee",
)
async def patch_conversation(
    request: Req, conversation_id: Id, data: JSONBody[ConversationPatch]
) -> Conversation:
    c = container_of(request)
    scope = await scope_of(request)
    await c.bus.execute(
        lambda tx: update_conversation(
            tx,
            access_conversation(tx.conn, scope, conversation_id),
            actor_id=request.user.id,
            status=ConversationStatus(data.status) if data.status else None,
            priority=data.priority,
            assignee_id=data.assignee_id,
            unassign=data.unassign,
        )
    )
    row = await c.db.read(lambda conn: conversation_detail(conn, conversation_id, scope=scope))
    return to_model(found_or_404(row, "conversation"), Conversation)


@get(
    "/conversations/{conversation_id:int}/messages",
    response_headers=PAGED,
    summary="Messages, oldest first",
)
async def get_messages(
    request: Req,
    conversation_id: Id,
    after: Annotated[
        int | None, Parameter(ge=0, le=MAX_ID, description="Only messages with a larger id.")
    ] = None,
    cursor: Cursor = None,
    limit: Annotated[int, page_size(200, 200)] = 200,
) -> Response[list[Message]]:
    c = container_of(request)
    scope = await scope_of(request)
    await c.db.read(lambda conn: access_conversation(conn, scope, conversation_id))
    after = decode_cursor(cursor, int) or after
    rows = await c.db.read(
        lambda conn: conversation_messages(
            conn, conversation_id, scope=scope, after=after, limit=limit + 1
        )
    )
    return page(rows, limit, lambda r: r["id"], Message)


@post(
    "/conversations/{conversation_id:int}/replies",
    guards=[require_agent],
    status_code=202,
    summary="Reply (or add a note) on any channel the customer has",
)
async def post_reply(request: Req, conversation_id: Id, data: JSONBody[ReplyIn]) -> ReplyResult:
    scope = await scope_of(request)
    result = await container_of(request).bus.execute(
        lambda tx: send_reply(
            tx,
            container_of(request).bus.cfg,
            conversation_id=access_conversation(tx.conn, scope, conversation_id),
            author_id=request.user.id,
            text=data.text,
            html=data.html,
            channel=Channel(data.channel) if data.channel else None,
            note=data.note,
            status=ConversationStatus(data.status) if data.status else None,
            template=(
                TemplateRef(
                    data.template.name, data.template.language, tuple(data.template.parameters)
                )
                if data.template
                else None
            ),
        )
    )
    return ReplyResult(
        message_id=result.message_id,
        channel=result.channel.value,
        recipient=result.recipient,
        status=result.status,
        warnings=list(result.warnings),
    )


ROUTES = [
    get_conversations,
    get_conversation,
    patch_conversation,
    get_messages,
    post_reply,
]
