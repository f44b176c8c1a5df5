"""The inbox: the views (mine, unassigned, all, each team), filters, sorting, live rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from urllib.parse import urlencode

from litestar import get
from litestar.exceptions import ValidationException
from litestar.response import Redirect, Template
from sqlalchemy.engine import Connection

from threadline.queries.inbox import InboxCounts, Sort, inbox_counts, list_inbox
from threadline.web.api.paging import decode_cursor, encode_cursor
from threadline.web.ui.common import (
    Agent,
    Req,
    container,
    is_htmx,
    page,
    require_signed_in,
    signed_in,
    to_login,
)
from threadline.web.ui.inbox_filter import CATEGORIES, InboxFilter, sort_key

__all__ = ["ROUTES"]

PAGE = 50


def _rows(
    conn: Connection,
    agent: Agent,
    f: InboxFilter,
    cursor: tuple[datetime | None, int] | None,
    now: datetime,
) -> dict[str, Any]:
    view, filters = f.as_query(now)
    found = list_inbox(
        conn,
        scope=agent.scope,
        viewer_id=agent.id,
        view=view,
        filters=filters,
        sort=cast("Sort", f.sort),  # one of SORTS: InboxFilter.parse saw to it
        cursor=cursor,
        limit=PAGE,
    )
    for r in found.rows:
        r["sort_key"] = sort_key(r, f.sort)
    counts = _flat(found.counts) if found.counts is not None else {}
    next_cursor = encode_cursor((f.sort, *found.next_cursor)) if found.next_cursor else None
    return {"rows": found.rows, "next_cursor": next_cursor, "counts": counts}


def _flat(counts: InboxCounts) -> dict[str, int]:
    return {
        "mine": counts.mine,
        "unassigned": counts.unassigned,
        "all": counts.all,
        **{f"team:{t.id}": t.count for t in counts.teams},
    }


@get("/ui/counts", include_in_schema=False)
async def counts(request: Req) -> dict[str, int]:
    """The sidebar's open counts for this agent (the page refreshes them as rows change)."""
    agent = await require_signed_in(request)
    found = await container(request).db.read(
        lambda conn: inbox_counts(conn, scope=agent.scope, viewer_id=agent.id)
    )
    return _flat(found)


_Key = tuple[str, datetime | None, int]


def _cursor(raw: str | None, sort: str) -> tuple[datetime | None, int] | None:
    """A cursor this page gave out for this sort; anything else starts at the top."""
    try:
        key = decode_cursor(raw, cast("type[_Key]", _Key))
    except ValidationException:
        return None
    if key is None or key[0] != sort:
        return None
    return key[1], key[2]


@get("/inbox", include_in_schema=False)
async def inbox(request: Req) -> Template | Redirect:
    agent = await signed_in(request)
    if agent is None:
        return to_login(request)
    f = InboxFilter.parse(dict(request.query_params))
    c = container(request)
    since = await c.broker.last_seq()
    cursor = _cursor(request.query_params.get("cursor"), f.sort)
    now = c.clock.now()
    data = await c.db.read(lambda conn: _rows(conn, agent, f, cursor, now))
    query = urlencode(f.query())
    context = {
        "filter": f,
        "query": None,
        "current_view": f.view,
        "filter_query": query,
        "categories": CATEGORIES,
        **data,
    }
    if is_htmx(request) and request.headers.get("hx-target") == "inbox-list":
        return Template("ui/_inbox_list.html", context={"agent": agent, **context, "people": {}})
    return await page(
        request,
        agent,
        "ui/inbox.html",
        stream=f"/ui/stream?inbox=1&{query}&since={since}",
        **context,
    )


ROUTES = [inbox, counts]
