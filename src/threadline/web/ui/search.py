"""The search page: customers, conversation subjects and messages, one box."""

from __future__ import annotations

from typing import Any

from litestar import get
from litestar.response import Redirect, Template

from threadline.core.model import Channel
from threadline.queries.search import search
from threadline.web.ui.common import Req, container, page, signed_in, to_login

__all__ = ["ROUTES"]

MAX_QUERY = 200
STATUSES = ("open", "pending", "snoozed", "resolved")


@get("/search", include_in_schema=False)
async def search_page(request: Req) -> Template | Redirect:
    agent = await signed_in(request)
    if agent is None:
        return to_login(request)
    q = (request.query_params.get("q") or "").strip()[:MAX_QUERY]
    channel = request.query_params.get("channel") or None
    status = request.query_params.get("status") or None
    channel = channel if channel in Channel._value2member_map_ else None
    status = status if status in STATUSES else None
    results: dict[Any, list[dict[str, Any]]] = {}
    if q:
        results = await container(request).db.read(
            lambda conn: search(conn, q, scope=agent.scope, channel=channel, status=status)
        )
    return await page(
        request,
        agent,
        "ui/search.html",
        query=q,
        channel=channel,
        status=status,
        results=results,
        statuses=STATUSES,
    )


ROUTES = [search_page]
