"""The inbox: the views (mine, unassigned, all, each team), filters, sorting, live rows."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import get
from litestar.response import Redirect, Template
from sqlalchemy.engine import Connection

from threadline.queries.conversations import list_conversations
from threadline.web.ui.common import Agent, Req, container, is_htmx, page, signed_in, to_login
from threadline.web.ui.inbox_rows import InboxFilter, sort_key

__all__ = ["ROUTES"]

PAGE = 50


def _rows(conn: Connection, agent: Agent, f: InboxFilter) -> dict[str, Any]:
    rows = list_conversations(
        conn,
        scope=agent.scope,
        status=None if f.status == "all" else f.status,
        assignee_id=agent.id if f.view == "mine" else f.assignee_id,
        unassigned=f.view == "unassigned",
        channel=f.channel,
        priority=f.priority,
        limit=PAGE,
    )
    for r in rows:
        r["sort_key"] = sort_key(r, f.sort)
    return {"rows": rows, "next_cursor": None, "counts": {}}


@get("/inbox", include_in_schema=False)
async def inbox(request: Req) -> Template | Redirect:
    agent = await signed_in(request)
    if agent is None:
        return to_login(request)
    f = InboxFilter.parse(dict(request.query_params))
    c = container(request)
    since = await c.broker.last_seq()
    data = await c.db.read(lambda conn: _rows(conn, agent, f))
    query = urlencode(f.query())
    context = {"filter": f, "query": None, "current_view": f.view, "filter_query": query, **data}
    if is_htmx(request) and request.headers.get("hx-target") == "inbox-list":
        return Template("ui/_inbox_list.html", context={"agent": agent, **context, "people": {}})
    return await page(
        request,
        agent,
        "ui/inbox.html",
        stream=f"/ui/stream?inbox=1&{query}&since={since}",
        **context,
    )


ROUTES = [inbox]
