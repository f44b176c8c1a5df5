"""The API channel's inbound and the quarantine: receipts in, receipts out, replays."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException, ValidationException
from litestar.params import FromQuery, JSONBody

from threadline.actions.receipts import Payload
from threadline.actions.receipts import ReceiptOutcome as Outcome
from threadline.bootstrap import Container
from threadline.channels.api.parse import ApiMessage, to_inbound
from threadline.queries.customers import list_receipts, receipt_detail
from threadline.queries.scope import Scope
from threadline.web.api.common import Req, container_of, found_or_404, scope_of
from threadline.web.api.paging import PAGED, decode_cursor, page
from threadline.web.api.params import Before, Cursor, Id, page_size
from threadline.web.auth import require_admin, require_agent
from threadline.web.schemas import Receipt, ReceiptDetail, ReceiptOutcome, ReplayIn, to_model

__all__ = ["ROUTES"]


# -- the API channel's inbound ------------------------------------------------------
@post(
    "/messages",
    guards=[require_agent],
    status_code=202,
    summary="Receive a customer message (the API channel)",
)
async def post_message(request: Req, data: JSONBody[ApiMessage]) -> ReceiptOutcome:
    c = container_of(request)
    scope = await scope_of(request)
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


def _outcome(outcome: Outcome) -> ReceiptOutcome:
    return msgspec.convert(outcome, ReceiptOutcome, from_attributes=True)


async def _default_api_inbox(c: Container, scope: Scope) -> int:
    for inbox in await c.bus.all_inboxes():
        if inbox.channel == "api" and scope.allows_inbox(inbox.id):
            return inbox.id
    raise ValidationException("no API inbox exists: create one or pass inbox_id")


@get(
    "/receipts",
    guards=[require_admin],
    response_headers=PAGED,
    summary="Inbound receipts (quarantine by default), newest first",
)
async def get_receipts(
    request: Req,
    status: FromQuery[Literal["quarantined", "processed", "ignored", "all"]] = "quarantined",
    before: Before = None,
    cursor: Cursor = None,
    limit: Annotated[int, page_size(50, 200)] = 50,
) -> Response[list[Receipt]]:
    wanted = None if status == "all" else status
    before = decode_cursor(cursor, int) or before
    rows = await container_of(request).db.read(
        lambda conn: list_receipts(conn, status=wanted, before=before, limit=limit + 1)
    )
    return page(rows, limit, lambda r: r["id"], Receipt)


@get("/receipts/{receipt_id:int}", guards=[require_admin], summary="One receipt with its payload")
async def get_receipt(request: Req, receipt_id: Id) -> ReceiptDetail:
    c = container_of(request)
    files = c.bus.cfg.attachment_dir
    row = await c.db.read(lambda conn: receipt_detail(conn, receipt_id, files))
    return to_model(found_or_404(row, "receipt"), ReceiptDetail)


@post(
    "/receipts/{receipt_id:int}/replay",
    guards=[require_admin],
    summary="Replay a quarantined receipt, optionally with a corrected payload",
)
async def post_replay(request: Req, receipt_id: Id, data: JSONBody[ReplayIn]) -> ReceiptOutcome:
    body = data.payload.encode() if data.payload is not None else None
    return _outcome(await container_of(request).bus.replay(receipt_id, body))


ROUTES = [post_message, get_receipts, get_receipt, post_replay]
