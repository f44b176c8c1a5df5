"""The REST API under /api/v1. Views parse, call one action or query, and shape."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request, get, patch, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException, PermissionDeniedException, ValidationException
from litestar.params import FromPath, FromQuery, JSONBody

from threadline.actions.conversations import update_conversation
from threadline.actions.customers import (
    add_identity,
    create_customer,
    merge_customers,
    unmerge_customers,
)
from threadline.actions.receipts import Payload, ReceiptOutcome
from threadline.actions.replies import TemplateRef, send_reply
from threadline.bootstrap import Container
from threadline.channels.api.parse import ApiMessage, to_inbound
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
    list_receipts,
    receipt_detail,
)
from threadline.queries.scope import (
    EVERYTHING,
    Scope,
    access_conversation,
    access_customer,
    access_merge,
)
from threadline.queries.search import search_messages
from threadline.queries.timeline import customer_timeline
from threadline.web.auth import AuthUser, require_admin, require_agent
from threadline.web.schemas import (
    ConversationPatch,
    CustomerIn,
    IdentityIn,
    MergeIn,
    ReplayIn,
    ReplyIn,
    UnmergeIn,
)
from threadline.web.scope import request_scope

__all__ = ["ROUTES"]

Req = Request[AuthUser, str, State]
T = TypeVar("T")


def _c(request: Req) -> Container:
    container: Container = request.app.state.container
    return container


async def _scope(request: Req) -> Scope:
    return await request_scope(request, request.user.id, request.user.role)


def _found(value: T | None, what: str) -> T:
    if value is None:
        raise NotFoundException(f"{what} not found")
    return value


def _identity(i: IdentityIn) -> Any:
    try:
        return normalize(i.kind, i.value, verified=i.verified)
    except InvalidIdentity as exc:
        raise ValidationException(str(exc)) from exc


# -- the API channel's inbound ------------------------------------------------------
@post(
    "/messages",
    guards=[require_agent],
    status_code=202,
    summary="Receive a customer message (the API channel)",
)
async def post_message(request: Req, data: JSONBody[ApiMessage]) -> dict[str, Any]:
    c = _c(request)
    scope = await _scope(request)
    inbox_id = data.inbox_id or await _default_api_inbox(c, scope)
    # Another channel's inbox would let a token write that channel's receipts (a
    # future email's Message-ID, say) and stand in for its provider.
    inbox = await c.bus.inbox(inbox_id)
    if not scope.allows_inbox(inbox_id):
        raise NotFoundException(f"inbox {inbox_id} does not exist")
    if inbox.channel != "api":
        raise PermissionDeniedException(f"inbox {inbox_id} is not an API inbox")
    try:
        parsed = to_inbound(data)
    except ValueError as exc:
        raise ValidationException(str(exc)) from exc
    body = await request.body()
    payload = Payload(inbox_id, "api", body, {"user": request.user.email})
    return _outcome(await c.bus.ingest(payload, parsed))


def _outcome(outcome: ReceiptOutcome) -> dict[str, Any]:
    return {
        "receipt_id": outcome.receipt_id,
        "status": outcome.status,
        "message_id": outcome.message_id,
        "conversation_id": outcome.conversation_id,
        "customer_id": outcome.customer_id,
        "detail": outcome.detail,
    }


async def _default_api_inbox(c: Container, scope: Scope) -> int:
    for inbox in await c.bus.all_inboxes():
        if inbox.channel == "api" and scope.allows_inbox(inbox.id):
            return inbox.id
    raise ValidationException("no API inbox exists: create one or pass inbox_id")


# -- customers ------------------------------------------------------------------------
@get("/customers", summary="List customers, or find one by identity")
async def get_customers(
    request: Req,
    identity: FromQuery[str | None] = None,
    before: FromQuery[int | None] = None,
    limit: FromQuery[int] = 50,
) -> list[dict[str, Any]]:
    key = None
    if identity:
        kind, _, value = identity.partition(":")
        key = _identity(IdentityIn(kind, value)).key
    scope = await _scope(request)
    return await _c(request).db.read(
        lambda conn: find_customers(
            conn, scope=scope, identity=key, before=before, limit=min(limit, 200)
        )
    )


@post("/customers", guards=[require_agent], summary="Create a customer")
async def post_customer(request: Req, data: JSONBody[CustomerIn]) -> dict[str, Any]:
    c = _c(request)
    refs = [_identity(i) for i in data.identities]
    cid = await c.bus.execute(lambda tx: create_customer(tx, name=data.name, refs=refs))
    # Shown to its creator even when it has no conversation in their scope yet.
    detail = await c.db.read(lambda conn: customer_detail(conn, cid, scope=EVERYTHING))
    return _found(detail, "customer")


@get("/customers/{customer_id:int}", summary="A customer with identities and merges")
async def get_customer(request: Req, customer_id: FromPath[int]) -> dict[str, Any]:
    scope = await _scope(request)
    row = await _c(request).db.read(lambda conn: customer_detail(conn, customer_id, scope=scope))
    return _found(row, "customer")


@get("/customers/{customer_id:int}/timeline", summary="The customer's timeline, newest first")
async def get_timeline(
    request: Req,
    customer_id: FromPath[int],
    before: FromQuery[int | None] = None,
    limit: FromQuery[int] = 50,
) -> list[dict[str, Any]]:
    c = _c(request)
    scope = await _scope(request)
    await c.db.read(lambda conn: access_customer(conn, scope, customer_id))
    return await c.db.read(
        lambda conn: customer_timeline(
            conn, customer_id, scope=scope, before=before, limit=min(limit, 200)
        )
    )


@get("/customers/{customer_id:int}/identities", summary="The customer's identities")
async def get_identities(request: Req, customer_id: FromPath[int]) -> list[dict[str, Any]]:
    scope = await _scope(request)
    row = await _c(request).db.read(lambda conn: customer_detail(conn, customer_id, scope=scope))
    identities: list[dict[str, Any]] = _found(row, "customer")["identities"]
    return identities


@post(
    "/customers/{customer_id:int}/identities",
    guards=[require_agent],
    summary="Add an identity to a customer",
)
async def post_identity(
    request: Req, customer_id: FromPath[int], data: JSONBody[IdentityIn]
) -> dict[str, Any]:
    ref = _identity(data)
    scope = await _scope(request)
    ident_id = await _c(request).bus.execute(
        lambda tx: add_identity(tx, access_customer(tx.conn, scope, customer_id), ref)
    )
    return {"id": ident_id, "kind": ref.kind, "value": ref.value, "verified": ref.verified}


@post("/customers/merge", guards=[require_agent], summary="Merge source into target")
async def post_merge(request: Req, data: JSONBody[MergeIn]) -> dict[str, Any]:
    actor = f"user:{request.user.id}"
    scope = await _scope(request)
    merge_id = await _c(request).bus.execute(
        lambda tx: merge_customers(
            tx,
            source_id=access_customer(tx.conn, scope, data.source_id),
            target_id=access_customer(tx.conn, scope, data.target_id),
            actor=actor,
        )
    )
    return {"merge_id": merge_id, "target_id": data.target_id}


@post("/customers/unmerge", guards=[require_agent], summary="Undo a merge")
async def post_unmerge(request: Req, data: JSONBody[UnmergeIn]) -> dict[str, Any]:
    actor = f"user:{request.user.id}"
    scope = await _scope(request)
    restored = await _c(request).bus.execute(
        lambda tx: unmerge_customers(
            tx, merge_id=access_merge(tx.conn, scope, data.merge_id), actor=actor
        )
    )
    return {"restored_customer_id": restored}


# -- conversations --------------------------------------------------------------------
@get("/conversations", summary="List conversations with filters")
async def get_conversations(
    request: Req,
    status: FromQuery[str | None] = None,
    assignee_id: FromQuery[int | None] = None,
    unassigned: FromQuery[bool] = False,
    customer_id: FromQuery[int | None] = None,
    channel: FromQuery[str | None] = None,
    priority: FromQuery[str | None] = None,
    before: FromQuery[int | None] = None,
    limit: FromQuery[int] = 50,
) -> list[dict[str, Any]]:
    scope = await _scope(request)
    return await _c(request).db.read(
        lambda conn: list_conversations(
            conn,
            scope=scope,
            status=status,
            assignee_id=assignee_id,
            unassigned=unassigned,
            customer_id=customer_id,
            channel=channel,
            priority=priority,
            before=before,
            limit=min(limit, 200),
        )
    )


@get("/conversations/{conversation_id:int}", summary="One conversation")
async def get_conversation(request: Req, conversation_id: FromPath[int]) -> dict[str, Any]:
    scope = await _scope(request)
    row = await _c(request).db.read(
        lambda conn: conversation_detail(conn, conversation_id, scope=scope)
    )
    return _found(row, "conversation")


@patch(
    "/conversations/{conversation_id:int}",
    guards=[require_agent],
    summary="Change status, priority or assignee",
)
async def patch_conversation(
    request: Req, conversation_id: FromPath[int], data: JSONBody[ConversationPatch]
) -> dict[str, Any]:
    c = _c(request)
    scope = await _scope(request)
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
    return _found(
        await c.db.read(lambda conn: conversation_detail(conn, conversation_id, scope=scope)),
        "conversation",
    )


@get("/conversations/{conversation_id:int}/messages", summary="Messages, oldest first")
async def get_messages(
    request: Req, conversation_id: FromPath[int], after: FromQuery[int | None] = None
) -> list[dict[str, Any]]:
    c = _c(request)
    scope = await _scope(request)
    await c.db.read(lambda conn: access_conversation(conn, scope, conversation_id))
    return await c.db.read(
        lambda conn: conversation_messages(conn, conversation_id, scope=scope, after=after)
    )


@post(
    "/conversations/{conversation_id:int}/replies",
    guards=[require_agent],
    status_code=202,
    summary="Reply (or add a note) on any channel the customer has",
)
async def post_reply(
    request: Req, conversation_id: FromPath[int], data: JSONBody[ReplyIn]
) -> dict[str, Any]:
    scope = await _scope(request)
    result = await _c(request).bus.execute(
        lambda tx: send_reply(
            tx,
            _c(request).bus.cfg,
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
    return {
        "message_id": result.message_id,
        "channel": result.channel.value,
        "recipient": result.recipient,
        "status": result.status,
        "warnings": list(result.warnings),
    }


# -- search and receipts -----------------------------------------------------------------
@get("/search", summary="Full-text search over messages, newest first")
async def get_search(
    request: Req,
    q: FromQuery[str],
    customer_id: FromQuery[int | None] = None,
    channel: FromQuery[str | None] = None,
    before: FromQuery[int | None] = None,
    limit: FromQuery[int] = 20,
) -> list[dict[str, Any]]:
    scope = await _scope(request)
    return await _c(request).db.read(
        lambda conn: search_messages(
            conn,
            q,
            scope=scope,
            customer_id=customer_id,
            channel=channel,
            before=before,
            limit=min(limit, 100),
        )
    )


@get("/receipts", guards=[require_admin], summary="Inbound receipts (quarantine by default)")
async def get_receipts(
    request: Req, status: FromQuery[str] = "quarantined", before: FromQuery[int | None] = None
) -> list[dict[str, Any]]:
    wanted = None if status == "all" else status
    return await _c(request).db.read(lambda conn: list_receipts(conn, status=wanted, before=before))


@get("/receipts/{receipt_id:int}", guards=[require_admin], summary="One receipt with its payload")
async def get_receipt(request: Req, receipt_id: FromPath[int]) -> dict[str, Any]:
    row = await _c(request).db.read(lambda conn: receipt_detail(conn, receipt_id))
    return _found(row, "receipt")


@post(
    "/receipts/{receipt_id:int}/replay",
    guards=[require_admin],
    summary="Replay a quarantined receipt, optionally with a corrected payload",
)
async def post_replay(
    request: Req, receipt_id: FromPath[int], data: JSONBody[ReplayIn]
) -> dict[str, Any]:
    body = data.payload.encode() if data.payload is not None else None
    return _outcome(await _c(request).bus.replay(receipt_id, body))


ROUTES = [
    post_message,
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
    get_receipts,
    get_receipt,
    post_replay,
]
