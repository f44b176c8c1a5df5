"""GET /conversations/{id}/reply-options: the composer's view of each channel's limits."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import Parameter

from threadline.bootstrap import Container
from threadline.queries.composer import reply_options
from threadline.web.api.params import Id
from threadline.web.auth import AuthUser
from threadline.web.schemas import ReplyOptions, to_model
from threadline.web.scope import request_scope

__all__ = ["ROUTES"]


@get(
    "/conversations/{conversation_id:int}/reply-options",
    summary="Where a reply can go now, with each channel's limits and warnings",
)
async def get_reply_options(
    request: Request[AuthUser, str, State],
    conversation_id: Id,
    # An email body can be long, but the query string is not the place for more.
    text: Annotated[str, Parameter(max_length=20_000, description="The draft reply")] = "",
) -> ReplyOptions:
    container: Container = request.app.state.container
    now = container.clock.now()
    scope = await request_scope(request, request.user.id, request.user.role)
    found = await container.db.read(
        lambda c: reply_options(c, conversation_id, text, now, scope=scope)
    )
    if found is None:
        raise NotFoundException(f"conversation {conversation_id} not found")
    return to_model(found, ReplyOptions)


ROUTES = [get_reply_options]
