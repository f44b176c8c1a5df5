"""The REST API under /api/v1. Views parse, call one action or query, and shape."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, get, post
from litestar.exceptions import ValidationException
from litestar.params import FromQuery, JSONBody, Parameter

from threadline.actions.customers import (
    add_identity,
    create_customer,
    merge_customers,
    unmerge_customers,
)
from threadline.core.identity import InvalidIdentity, normalize
from threadline.queries.customers import (
    customer_detail,
    find_customers,
)
from threadline.queries.scope import (
    EVERYTHING,
    access_customer,
    access_merge,
)
from threadline.queries.search import search_messages
from threadline.queries.timeline import customer_timeline
from threadline.web.api.common import Req, container_of, found_or_404, scope_of
from threadline.web.api.conversations import CONVERSATION_ROUTES
from threadline.web.api.paging import PAGED, decode_cursor, page
from threadline.web.api.params import Before, Cursor, Id, OptionalId, page_size
from threadline.web.auth import require_agent
from threadline.web.schemas import (
    ChannelName,
    Customer,
    CustomerIn,
    CustomerSummary,
    Identity,
    IdentityIn,
    MergeIn,
    MergeResult,
    SearchHit,
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
    *CONVERSATION_ROUTES,
    get_search,
]
