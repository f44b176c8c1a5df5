"""GET /conversations/{id}/reply-options: the composer's view of each channel's limits."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.exceptions import NotFoundException
from litestar.params import Parameter

from threadline.queries.composer import reply_options
from threadline.web.api.common import Req, container_of, scope_of
from threadline.web.api.params import Id
from threadline.web.schemas import ReplyOptions, to_model

__all__ = ["ROUTES"]


@get(
    "/conversations/{conversation_id:int}/reply-options",
    summary="Where a reply can go now, with each channel's limits and warnings",
)
async def get_reply_options(
    request: Req,
    conversation_id: Id,
    # An email body can be long, but the query string is not the place for more.
    text: Annotated[str, Parameter(max_length=20_000, description="The draft reply")] = "",
) -> ReplyOptions:
    container = container_of(request)
    now = container.clock.now()
    scope = await scope_of(request)
    found = await container.db.read(
        lambda c: reply_options(c, conversation_id, text, now, scope=scope)
    )
    if found is None:
        raise NotFoundException(f"conversation {conversation_id} not found")
    return to_model(found, ReplyOptions)


ROUTES = [get_reply_options]
