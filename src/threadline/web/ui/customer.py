"""The customer screen: the 360° view of one person across every channel, and
what an agent decides about them (attributes, name, merges)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template

from threadline.actions.customers import (
    accept_suggestion,
    dismiss_suggestion,
    rename_customer,
    set_attributes,
    unmerge_customers,
)
from threadline.queries.customers import access_suggestion, customer_profile
from threadline.queries.scope import access_customer, access_merge
from threadline.queries.timeline import customer_timeline
from threadline.storage.db import Tx
from threadline.web.api.params import Id
from threadline.web.ui.common import Req, container, page, require_writer, signed_in, to_login

__all__ = ["ROUTES"]

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
TIMELINE = 200


@get("/customers/{customer_id:int}", include_in_schema=False)
async def customer_page(request: Req, customer_id: Id) -> Template | Redirect:
    agent = await signed_in(request)
    if agent is None:
        return to_login(request)
    db = container(request).db

    def read(conn: Any) -> dict[str, Any]:
        profile = customer_profile(conn, customer_id, scope=agent.scope)
        if profile is None:
            raise NotFoundException("customer not found")
        timeline = customer_timeline(conn, customer_id, scope=agent.scope, limit=TIMELINE)
        return {"customer": profile, "timeline": list(reversed(timeline))}

    return await page(request, agent, "ui/customer.html", **await db.read(read))


def _actor(agent_id: int) -> str:
    return f"user:{agent_id}"


@post("/ui/customers/{customer_id:int}/profile", include_in_schema=False, status_code=200)
async def post_profile(request: Req, customer_id: Id, data: Form) -> Redirect:
    """The name, and attributes: ``key``/``value`` adds or changes one, ``remove`` one."""
    agent = await require_writer(request)

    def apply(tx: Tx) -> None:
        access_customer(tx.conn, agent.scope, customer_id)
        if "name" in data:
            rename_customer(tx, customer_id, data["name"], actor=_actor(agent.id))
        changes: dict[str, str | None] = {}
        if data.get("key"):
            changes[data["key"]] = data.get("value", "")
        if data.get("remove"):
            changes[data["remove"]] = None
        if changes:
            set_attributes(tx, customer_id, changes, actor=_actor(agent.id))

    await container(request).bus.execute(apply)
    return Redirect(f"/customers/{customer_id}")


@post("/ui/merge-suggestions/{suggestion_id:int}/{verdict:str}", include_in_schema=False)
async def post_suggestion(
    request: Req, suggestion_id: Id, verdict: Annotated[str, Parameter(max_length=10)]
) -> Redirect:
    """Accept (merge the two) or dismiss (they are different people)."""
    agent = await require_writer(request)
    if verdict not in ("accept", "dismiss"):
        raise NotFoundException("no such decision")
    back = request.headers.get("referer", "")

    def apply(tx: Tx) -> None:
        access_suggestion(tx.conn, agent.scope, suggestion_id)
        if verdict == "accept":
            accept_suggestion(tx, suggestion_id, actor=_actor(agent.id))
        else:
            dismiss_suggestion(tx, suggestion_id, actor=_actor(agent.id))

    await container(request).bus.execute(apply)
    return Redirect(_same_site(back))


@post("/ui/merges/{merge_id:int}/undo", include_in_schema=False, status_code=200)
async def post_unmerge(request: Req, merge_id: Id) -> Redirect:
    agent = await require_writer(request)

    def apply(tx: Tx) -> int:
        access_merge(tx.conn, agent.scope, merge_id)
        return unmerge_customers(tx, merge_id=merge_id, actor=_actor(agent.id))

    restored = await container(request).bus.execute(apply)
    return Redirect(f"/customers/{restored}")


def _same_site(referer: str) -> str:
    """Back to the page the form was on, if it is one of ours."""
    path = referer.split("://", 1)[-1].partition("/")[2]
    return f"/{path}" if path and not path.startswith("/") else "/inbox"


ROUTES = [customer_page, post_profile, post_suggestion, post_unmerge]
