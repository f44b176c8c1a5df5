"""The conversation routes of the REST API: the inbox list, one conversation, the
agent's changes to it, its messages, replies, read markers and merges."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any, Literal, cast

import anyio.to_thread
import msgspec
from litestar import Response, get, patch, post
from litestar.exceptions import ValidationException
from litestar.params import FromQuery, JSONBody, Parameter
from sqlalchemy.engine import Connection

from threadline.actions.assignment import escalate
from threadline.actions.attachments import keep_ahead
from threadline.actions.conversation_merge import merge_conversations
from threadline.actions.conversations import update_conversation
from threadline.actions.reads import mark_read
from threadline.actions.replies import TemplateRef, send_reply
from threadline.core.model import Attachment, Channel, ConversationStatus
from threadline.core.tags import InvalidTag, normalize_tag
from threadline.queries.conversations import conversation_messages
from threadline.queries.inbox import InboxFilters, Sort, list_inbox, parse_view, row_by_id
from threadline.queries.intake import conversation_intake
from threadline.queries.scope import access_conversation
from threadline.queries.triage import latest_triage
from threadline.web.api.common import Req, container_of, found_or_404, scope_of
from threadline.web.api.paging import PAGED, decode_cursor, encode_cursor, page
from threadline.web.api.params import MAX_ID, NEXT_CURSOR, Cursor, Id, OptionalId, page_size
from threadline.web.auth import require_agent
from threadline.web.schemas import (
    AttachmentIn,
    ChannelName,
    Conversation,
    ConversationDetail,
    ConversationMergeIn,
    ConversationPatch,
    Intake,
    Message,
    Priority,
    ReadMarker,
    ReplyIn,
    ReplyResult,
    TriageDecision,
    to_model,
)

__all__ = ["CONVERSATION_ROUTES"]

StatusFilter = Literal["open", "pending", "snoozed", "resolved", "all"]
# Replies may carry files, base64 in the JSON body: a route limit above the app's
# 2 MiB, and still a hard one.
MAX_REPLY_BODY = 10 * 1024 * 1024

# The sort a cursor was given out for, its sort value and the id: a cursor from
# one sort passed to the other is refused, not misread.
_CursorKey = tuple[Literal["activity", "waiting", "due"], datetime | None, int]


async def _row(request: Req, conversation_id: int) -> Conversation:
    scope = await scope_of(request)
    viewer = request.user.id
    row = await container_of(request).db.read(
        lambda conn: row_by_id(conn, conversation_id, scope=scope, viewer_id=viewer)
    )
    return to_model(found_or_404(row, "conversation"), Conversation)


@get(
    "/conversations",
    response_headers=PAGED,
    summary="List conversations: a view of the inbox, filtered and sorted",
)
async def get_conversations(
    request: Req,
    view: Annotated[
        str,
        Parameter(
            max_length=30,
            pattern=r"^(mine|unassigned|all|team:[1-9][0-9]{0,17})$",
            description="mine, unassigned, all, or team:<id> (its members and admins only).",
        ),
    ] = "all",
    status: Annotated[
        StatusFilter | None, Parameter(description="One status, or all (the default).")
    ] = None,
    assignee_id: OptionalId = None,
    unassigned: FromQuery[bool] = False,
    customer_id: OptionalId = None,
    channel: Annotated[
        ChannelName | None, Parameter(description="The channel of the customer's last message.")
    ] = None,
    priority: FromQuery[Priority | None] = None,
    tag: Annotated[str | None, Parameter(min_length=1, max_length=100)] = None,
    sort: Annotated[
        Sort,
        Parameter(
            description=(
                "activity: latest first; waiting: longest waiting customer first; "
                "due: the first answer due soonest first (overdue ones at the top)."
            )
        ),
    ] = "activity",
    cursor: Cursor = None,
    limit: Annotated[int, page_size(50, 200)] = 50,
    before: Annotated[int | None, Parameter(include_in_schema=False)] = None,
) -> Response[list[Conversation]]:
    if before is not None:
        # It paged by id through a list ordered by activity: refuse it rather
        # than ignore it, or an old client would fetch the first page for ever.
        raise ValidationException("before= is gone: pass the X-Next-Cursor header as cursor=")
    key = decode_cursor(cursor, cast("type[_CursorKey]", _CursorKey))
    if key is not None and (key[0] != sort or (sort == "activity" and key[1] is None)):
        raise ValidationException("cursor is not one this API gave out for this sort")
    try:
        tag = normalize_tag(tag) if tag is not None else None
    except InvalidTag as exc:
        raise ValidationException(str(exc)) from exc
    filters = InboxFilters(
        statuses=None if status in (None, "all") else (status,),
        channel=channel,
        priority=priority,
        tag=tag,
        assignee_id=assignee_id,
        unassigned=unassigned,
        customer_id=customer_id,
    )
    scope = await scope_of(request)
    viewer = request.user.id
    result = await container_of(request).db.read(
        lambda conn: list_inbox(
            conn,
            scope=scope,
            viewer_id=viewer,
            view=parse_view(view),
            filters=filters,
            sort=sort,
            cursor=None if key is None else (key[1], key[2]),
            limit=limit,
            counts=False,
        )
    )
    headers = {}
    if result.next_cursor is not None:
        headers[NEXT_CURSOR] = encode_cursor((sort, *result.next_cursor))
    return Response(to_model(result.rows, list[Conversation]), headers=headers)


@get("/conversations/{conversation_id:int}", summary="One conversation, with its triage")
async def get_conversation(request: Req, conversation_id: Id) -> ConversationDetail:
    row = await _row(request, conversation_id)
    cfg = container_of(request).bus.cfg

    def read(conn: Connection) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        checklist = cfg.intakes.current(conn, cfg.intake)
        return latest_triage(conn, row.id), conversation_intake(conn, row.id, checklist)

    triage, intake = await container_of(request).db.read(read)
    return ConversationDetail(
        **msgspec.structs.asdict(row),
        triage=None if triage is None else to_model(triage, TriageDecision),
        intake=to_model(intake, Intake),
    )


@patch(
    "/conversations/{conversation_id:int}",
    guards=[require_agent],
    summary="Change status (snooze until a time), priority, assignee, team, escalation or tags",
)
async def patch_conversation(
    request: Req, conversation_id: Id, data: JSONBody[ConversationPatch]
) -> Conversation:
    c = container_of(request)
    scope = await scope_of(request)
    tags = data.tags
    await c.bus.execute(
        lambda tx: update_conversation(
            tx,
            access_conversation(tx.conn, scope, conversation_id),
            actor_id=request.user.id,
            status=ConversationStatus(data.status) if data.status else None,
            snoozed_until=data.snoozed_until,
            priority=data.priority,
            assignee_id=data.assignee_id,
            unassign=data.unassign,
            team_id=data.team_id,
            unassign_team=data.unassign_team,
            escalation_level=data.escalation_level,
            add_tags=tags.add if tags else (),
            remove_tags=tags.remove if tags else (),
        )
    )
    return await _row(request, conversation_id)


@post(
    "/conversations/{conversation_id:int}/read",
    status_code=200,
    summary="Mark the conversation read by the caller (clears its unread marker)",
)
async def post_read(request: Req, conversation_id: Id) -> ReadMarker:
    # Open to viewers: it records what the caller has seen, and changes nothing
    # anyone else sees.
    scope = await scope_of(request)
    viewer = request.user.id
    read_at = await container_of(request).bus.execute(
        lambda tx: mark_read(tx, access_conversation(tx.conn, scope, conversation_id), viewer)
    )
    return ReadMarker(conversation_id=conversation_id, read_at=read_at)


@post(
    "/conversations/{conversation_id:int}/merge",
    guards=[require_agent],
    status_code=200,
    summary="Merge another conversation of the same customer into this one (final)",
)
async def post_conversation_merge(
    request: Req, conversation_id: Id, data: JSONBody[ConversationMergeIn]
) -> Conversation:
    scope = await scope_of(request)
    actor = request.user.id
    await container_of(request).bus.execute(
        lambda tx: merge_conversations(
            tx,
            source_id=access_conversation(tx.conn, scope, data.source_id),
            target_id=access_conversation(tx.conn, scope, conversation_id),
            actor_id=actor,
        )
    )
    return await _row(request, conversation_id)


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


def _decoded(items: list[AttachmentIn]) -> list[Attachment]:
    files = []
    for i, item in enumerate(items):
        try:
            data = base64.b64decode(item.data_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationException(f"attachments[{i}].data_base64 is not base64") from exc
        files.append(Attachment(item.filename, item.content_type, data))
    return files


@post(
    "/conversations/{conversation_id:int}/replies",
    guards=[require_agent],
    status_code=202,
    request_max_body_size=MAX_REPLY_BODY,
    summary="Reply (or add a note) on any channel the customer has, with files",
    description=(
        "Files go in `attachments` (at most 10, base64, the whole request at most 10 MiB). "
        "Each must fit the channel: a type or size it cannot take is refused with 422 "
        "and nothing is stored."
    ),
)
async def post_reply(request: Req, conversation_id: Id, data: JSONBody[ReplyIn]) -> ReplyResult:
    c = container_of(request)
    # ActionError (422): a file the channel cannot take, refused before anything is stored.
    files = await anyio.to_thread.run_sync(
        keep_ahead, c.bus.cfg.attachment_dir, _decoded(data.attachments)
    )
    scope = await scope_of(request)
    result = await c.bus.execute(
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
            attachments=files,
        )
    )
    return ReplyResult(
        message_id=result.message_id,
        channel=result.channel.value,
        recipient=result.recipient,
        status=result.status,
        warnings=list(result.warnings),
    )


@post(
    "/conversations/{conversation_id:int}/escalate",
    guards=[require_agent],
    status_code=200,
    summary="Escalate to level 2: the inbox's level-2 team takes it, assigned automatically",
)
async def post_escalate(request: Req, conversation_id: Id) -> Conversation:
    scope = await scope_of(request)
    await container_of(request).bus.execute(
        lambda tx: escalate(
            tx, access_conversation(tx.conn, scope, conversation_id), actor_id=request.user.id
        )
    )
    return await _row(request, conversation_id)


CONVERSATION_ROUTES = [
    get_conversations,
    get_conversation,
    patch_conversation,
    post_read,
    post_conversation_merge,
    get_messages,
    post_reply,
    post_escalate,
]
