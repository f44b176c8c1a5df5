"""Customers over the API: lists, identities, the timeline, and edits to names and
attributes. Merges and merge suggestions are in merges.py."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, get, patch, post
from litestar.exceptions import ValidationException
from litestar.params import JSONBody, Parameter

from threadline.actions.customers import (
    add_identity,
    create_customer,
    rename_customer,
    set_attributes,
)
from threadline.core.identity import InvalidIdentity, normalize
from threadline.core.model import IdentityRef
from threadline.queries.customers import customer_detail, find_customers
from threadline.queries.scope import EVERYTHING, access_customer
from threadline.queries.timeline import customer_timeline
from threadline.storage.db import Tx
from threadline.web.api.common import Req, container_of, found_or_404, scope_of
from threadline.web.api.paging import PAGED, decode_cursor, page
from threadline.web.api.params import Before, Cursor, Id, page_size
from threadline.web.auth import require_agent
from threadline.web.schemas import (
    Customer,
    CustomerIn,
    CustomerPatch,
    CustomerSummary,
    Identity,
    IdentityIn,
    TimelineEntry,
    to_model,
)

__all__ = ["ROUTES"]


def _identity(i: IdentityIn) -> IdentityRef:
    try:
        return normalize(i.kind, i.value, verified=i.verified)
    except InvalidIdentity as exc:
        raise ValidationException(str(exc)) from exc


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


@patch(
    "/customers/{customer_id:int}",
    guards=[require_agent],
    summary="Rename a customer, or set and remove attributes",
)
async def patch_customer(request: Req, customer_id: Id, data: JSONBody[CustomerPatch]) -> Customer:
    actor = f"user:{request.user.id}"
    c = container_of(request)
    scope = await scope_of(request)

    def edit(tx: Tx) -> None:
        access_customer(tx.conn, scope, customer_id)
        if data.name is not None:
            rename_customer(tx, customer_id, data.name, actor=actor)
        if data.attributes is not None:
            set_attributes(tx, customer_id, data.attributes, actor=actor)

    await c.bus.execute(edit)
    row = await c.db.read(lambda conn: customer_detail(conn, customer_id, scope=scope))
    return to_model(found_or_404(row, "customer"), Customer)


ROUTES = [
    get_customers,
    post_customer,
    get_customer,
    patch_customer,
    get_timeline,
    get_identities,
    post_identity,
]
