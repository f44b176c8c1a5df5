"""GET /search: customers, conversations and messages, grouped, in the caller's scope."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get
from litestar.params import FromQuery, Parameter

from threadline.queries.search import search
from threadline.web.api.common import Req, container_of, scope_of
from threadline.web.api.paging import decode_cursor, encode_cursor
from threadline.web.api.params import Cursor, OptionalId, page_size
from threadline.web.schemas import (
    ChannelName,
    ConversationHits,
    CustomerHits,
    MessageHits,
    SearchKind,
    SearchResults,
    Status,
    to_model,
)

__all__ = ["ROUTES"]

_ID = {"customers": "id", "conversations": "id", "messages": "message_id"}


def _group(kind: SearchKind, rows: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    """One group's page: ``rows`` were read with ``limit + 1``."""
    hits = [
        {**row, "segments": [{"text": t, "match": m} for t, m in row["segments"]]}
        for row in rows[:limit]
    ]
    more = len(rows) > limit
    return {
        "hits": hits,
        "next_cursor": encode_cursor((kind, rows[limit - 1][_ID[kind]])) if more else None,
    }


@get("/search", summary="Search customers, conversation subjects and message text")
async def get_search(
    request: Req,
    q: Annotated[
        str,
        Parameter(
            min_length=1,
            max_length=500,
            description="Customers: every word begins a word of the name, or the text is "
            "(the start of) an identity; conversations: every word begins a word of the "
            "subject; messages: every word appears. The first 200 characters count.",
        ),
    ],
    kinds: Annotated[
        list[SearchKind] | None,
        Parameter(max_items=3, description="The groups to search; all three if absent."),
    ] = None,
    customer_id: OptionalId = None,
    channel: FromQuery[ChannelName | None] = None,
    status: FromQuery[Status | None] = None,
    cursor: Cursor = None,
    limit: Annotated[int, page_size(20, 100)] = 20,
) -> SearchResults:
    """Each group comes newest first with its own ``next_cursor``. A cursor pages
    its one group: the answer then holds that group alone. The filters narrow
    conversations and messages."""
    wanted: tuple[str, ...] = tuple(kinds) if kinds else ("customers", "conversations", "messages")
    before = None
    if (at := decode_cursor(cursor, tuple[SearchKind, int])) is not None:
        wanted, before = (at[0],), at[1]
    scope = await scope_of(request)
    found = await container_of(request).db.read(
        lambda conn: search(
            conn,
            q,
            scope=scope,
            kinds=wanted,
            channel=channel,
            status=status,
            customer_id=customer_id,
            limit=limit + 1,
            before=before,
        )
    )
    return SearchResults(
        customers=to_model(_group("customers", found["customers"], limit), CustomerHits),
        conversations=to_model(
            _group("conversations", found["conversations"], limit), ConversationHits
        ),
        messages=to_model(_group("messages", found["messages"], limit), MessageHits),
    )


ROUTES = [get_search]
