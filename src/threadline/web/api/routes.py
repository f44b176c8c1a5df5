"""The REST API under /api/v1. Views parse, call one action or query, and shape."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Response, get, patch, post
from litestar.exceptions import ValidationException
from litestar.params import FromQuery, JSONBody, Parameter

from threadline.actions.conversations import update_conversation
from threadline.actions.customers import (
    add_identity,
    create_customer,
    merge_customers,
    unmerge_customers,
)
from threadline.actions.replies import TemplateRef, send_reply
from threadline.core.identity import InvalidIdentity, normalize
from threadline.core.model import Channel, ConversationStatus
from threadline.queries.conversations import (
    conversation_detail,
    conversation_messages,
    list_conversations,
)
from threadline.queries.customers import (
    customer_detail,
    find_customers,
)
from threadline.queries.scope import (
    EVERYTHING,
    access_conversation,
    access_customer,
    access_merge,
)
from threadline.queries.search import search_messages
from threadline.queries.timeline import customer_timeline
from threadline.web.api.common import Req, container_of, found_or_404, scope_of
from threadline.web.api.paging import PAGED, decode_cursor, page
from threadline.web.api.params import MAX_ID, Before, Cursor, Id, OptionalId, page_size
from threadline.web.auth import require_agent
from threadline.web.schemas import (
    ChannelName,
    Conversation,
    ConversationPatch,
    Customer,
    CustomerIn,
    CustomerSummary,
    Identity,
    IdentityIn,
    MergeIn,
    MergeResult,
    Message,
    Priority,
    ReplyIn,
    ReplyResult,
    SearchHit,
    Status,
    TimelineEntry,
    UnmergeIn,
    UnmergeResult,
    to_model,
)

__all__ = ["ROUTES"]


def _identity(i: IdentityIn) -> Any:
    try:
        return normalize(i.kind, i.value, verified=i.verified)
    except InvalidIdentity as exc:
        raise ValidationException(str(exc)) from exc


# -- customers ------------------------------------------------------------------------
@get(
    "/customers",
    response_headers=PAGED,
    summary="List customers, newest first, or find one by identity",
)
async def get_customers(
    request: Req,
    identity: Annotated[
        str | None, Parameter(max_length=400, description="kind:value, e.g. email:ana@example.com")
    ] = None,
    before: Before = None,
    cursor: Cursor = None,
    limit: Annotated[int, page_size(50, 200)] = 50,
) -> Response[list[CustomerSummary]]:
    key = None
    if identity:
        kind, _, value = identity.partition(":")
        key = _identity(IdentityIn(kind, value)).key
    scope = await scope_of(request)
    before = decode_cursor(cursor, int) or before
    rows = await container_of(request).db.read(
        lambda conn: find_customers(conn, scope=scope, identity=key, before=before, limit=limit + 1)
    )
    return page(rows, limit, lambda r: r["id"], CustomerSummary)


@post("/customers", guards=[require_agent], summary="Create a customer")
async def post_customer(request: Req, data: JSONBody[CustomerIn]) -> Customer:
    c = container_of(request)
    refs = [_identity(i) for i in data.identities]
    cid = await c.bus.execute(lambda tx: create_customer(tx, name=data.name, refs=refs))
    # Shown to its creator even when it has no conversation in their scope yet.
    detail = await c.db.read(lambda conn: customer_detail(conn, cid, scope=EVERYTHING))
    return to_model(found_or_404(detail, "customer"), Customer)


@get("/customers/{customer_id:int}", summary="A customer with identities and merges")
async def get_customer(request: Req, customer_id: Id) -> Customer:
    scope = await scope_of(request)
    row = await container_of(request).db.read(
        lambda conn: customer_detail(conn, customer_id, scope=scope)
    )
    return to_model(found_or_404(row, "customer"), Customer)


@get(
    "/customers/{customer_id:int}/timeline",
    response_headers=PAGED,
    summary="The customer's timeline, newest first",
)
async def get_timeline(
    request: Req,
    customer_id: Id,
    before: Before = None,
    cursor: Cursor = None,
    limit: Annotated[int, page_size(50, 200)] = 50,
) -> Response[list[TimelineEntry]]:
    c = container_of(request)
    scope = await scope_of(request)
    await c.db.read(lambda conn: access_customer(conn, scope, customer_id))
    before = decode_cursor(cursor, int) or before
    rows = await c.db.read(
        lambda conn: customer_timeline(
            conn, customer_id, scope=scope, before=before, limit=limit + 1
        )
    )
    return page(rows, limit, lambda r: r["id"], TimelineEntry)


@get("/customers/{customer_id:int}/identities", summary="The customer's identities")
async def get_identities(request: Req, customer_id: Id) -> list[Identity]:
    scope = await scope_of(request)
    row = await container_of(request).db.read(
        lambda conn: customer_detail(conn, customer_id, scope=scope)
    )
    return to_model(found_or_404(row, "customer")["identities"], list[Identity])


@post(
    "/customers/{customer_id:int}/identities",
    guards=[require_agent],
    summary="Add an identity to a customer",
)
async def post_identity(request: Req, customer_id: Id, data: JSONBody[IdentityIn]) -> Identity:
    ref = _identity(data)
    scope = await scope_of(request)
    ident_id = await container_of(request).bus.execute(
        lambda tx: add_identity(tx, access_customer(tx.conn, scope, customer_id), ref)
    )
    return Identity(id=ident_id, kind=ref.kind, value=ref.value, verified=ref.verified)


@post("/customers/merge", guards=[require_agent], summary="Merge source into target")
async def post_merge(request: Req, data: JSONBody[MergeIn]) -> MergeResult:
    actor = f"user:{request.user.id}"
    scope = await scope_of(request)
    merge_id = await container_of(request).bus.execute(
        lambda tx: merge_customers(
            tx,
            source_id=access_customer(tx.conn, scope, data.source_id),
            target_id=access_customer(tx.conn, scope, data.target_id),
            actor=actor,
        )
    )
    return MergeResult(merge_id=merge_id, target_id=data.target_id)


@post("/customers/unmerge", guards=[require_agent], summary="Undo a merge")
async def post_unmerge(request: Req, data: JSONBody[UnmergeIn]) -> UnmergeResult:
    actor = f"user:{request.user.id}"
    scope = await scope_of(request)
    restored = await container_of(request).bus.execute(
        lambda tx: unmerge_customers(
            tx, merge_id=access_merge(tx.conn, scope, data.merge_id), actor=actor
        )
    )
    return UnmergeResult(restored_customer_id=restored)


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


# -- search ------------------------------------------------------------------------------
@get("/search", response_headers=PAGED, summary="Full-text search over messages, newest first")
async def get_search(
    request: Req,
    q: Annotated[
        str, Parameter(min_length=1, max_length=500, description="Every word must match.")
    ],
    customer_id: OptionalId = None,
    channel: FromQuery[ChannelName | None] = None,
    before: Before = None,
    cursor: Cursor = None,
    limit: Annotated[int, page_size(20, 100)] = 20,
) -> Response[list[SearchHit]]:
    scope = await scope_of(request)
    before = decode_cursor(cursor, int) or before
    rows = await container_of(request).db.read(
        lambda conn: search_messages(
            conn,
            q,
            scope=scope,
            customer_id=customer_id,
            channel=channel,
            before=before,
            limit=limit + 1,
        )
    )
    return page(rows, limit, lambda r: r["message_id"], SearchHit)


ROUTES = [
    get_customers,
    post_customer,
    get_customer,
    get_timeline,
    get_identities,
    post_identity,
    post_merge,
    post_unmerge,
    get_conversations,
    get_conversation,
    patch_conversation,
    get_messages,
    post_reply,
    get_search,
]
