"""Merges over the API: merge and unmerge customers, and the merge suggestions
inbound messages leave for an agent to accept or dismiss."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.params import JSONBody
from sqlalchemy.engine import Connection

from threadline.actions.customers import (
    accept_suggestion,
    dismiss_suggestion,
    merge_customers,
    unmerge_customers,
)
from threadline.queries.customers import (
    access_suggestion,
    merge_suggestion,
    merge_suggestions_of,
)
from threadline.queries.scope import access_customer, access_merge
from threadline.storage.db import Tx
from threadline.web.api.common import Req, container_of, found_or_404, scope_of
from threadline.web.api.params import Id
from threadline.web.auth import require_agent
from threadline.web.schemas import (
    MergeIn,
    MergeResult,
    MergeSuggestionDetail,
    UnmergeIn,
    UnmergeResult,
    to_model,
)

__all__ = ["ROUTES"]


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


@get(
    "/customers/{customer_id:int}/merge-suggestions",
    summary="Open merge suggestions naming this customer, oldest first",
)
async def get_merge_suggestions(request: Req, customer_id: Id) -> list[MergeSuggestionDetail]:
    scope = await scope_of(request)

    def read(conn: Connection) -> list[dict[str, Any]]:
        access_customer(conn, scope, customer_id)
        return merge_suggestions_of(conn, customer_id, scope=scope)

    rows = await container_of(request).db.read(read)
    return to_model(rows, list[MergeSuggestionDetail])


@post(
    "/merge-suggestions/{suggestion_id:int}/accept",
    guards=[require_agent],
    summary="Merge the customer who claimed the identity into the one who owns it",
)
async def post_accept_suggestion(request: Req, suggestion_id: Id) -> MergeResult:
    actor = f"user:{request.user.id}"
    scope = await scope_of(request)

    def accept(tx: Tx) -> MergeResult:
        access_suggestion(tx.conn, scope, suggestion_id)
        merge_id = accept_suggestion(tx, suggestion_id, actor=actor)
        suggestion = found_or_404(merge_suggestion(tx.conn, suggestion_id), "merge suggestion")
        return MergeResult(merge_id=merge_id, target_id=suggestion["other_customer"]["id"])

    return await container_of(request).bus.execute(accept)


@post(
    "/merge-suggestions/{suggestion_id:int}/dismiss",
    guards=[require_agent],
    status_code=200,
    summary="Dismiss a merge suggestion: the two are different people",
)
async def post_dismiss_suggestion(request: Req, suggestion_id: Id) -> MergeSuggestionDetail:
    actor = f"user:{request.user.id}"
    c = container_of(request)
    scope = await scope_of(request)
    await c.bus.execute(
        lambda tx: dismiss_suggestion(
            tx, access_suggestion(tx.conn, scope, suggestion_id), actor=actor
        )
    )
    row = await c.db.read(lambda conn: merge_suggestion(conn, suggestion_id))
    return to_model(found_or_404(row, "merge suggestion"), MergeSuggestionDetail)


ROUTES = [
    post_merge,
    post_unmerge,
    get_merge_suggestions,
    post_accept_suggestion,
    post_dismiss_suggestion,
]
