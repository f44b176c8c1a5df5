"""The customer screen: the 360° view of one person across every channel."""

from __future__ import annotations

from litestar import get
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from threadline.queries.customers import customer_detail
from threadline.queries.timeline import customer_timeline
from threadline.web.api.params import Id
from threadline.web.ui.common import Req, container, page, signed_in, to_login

__all__ = ["ROUTES"]


@get("/customers/{customer_id:int}", include_in_schema=False)
async def customer_page(request: Req, customer_id: Id) -> Template | Redirect:
    agent = await signed_in(request)
    if agent is None:
        return to_login(request)
    db = container(request).db
    customer = await db.read(lambda c: customer_detail(c, customer_id, scope=agent.scope))
    if customer is None:
        raise NotFoundException("customer not found")
    timeline = await db.read(
        lambda c: customer_timeline(c, customer_id, scope=agent.scope, limit=200)
    )
    return await page(
        request, agent, "customer.html", customer=customer, timeline=list(reversed(timeline))
    )


ROUTES = [customer_page]
