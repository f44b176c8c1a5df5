"""What every API module needs: the request type, the container (the one
``container_of`` of the web layer), scope and 404s."""

from __future__ import annotations

from typing import TypeVar

from litestar import Request
from litestar.datastructures import State
from litestar.exceptions import NotFoundException

from threadline.queries.scope import Scope
from threadline.web.auth import AuthUser
from threadline.web.scope import request_scope
from threadline.web.webhooks.common import container_of

__all__ = ["Req", "container_of", "found_or_404", "scope_of"]

Req = Request[AuthUser, str, State]
T = TypeVar("T")


async def scope_of(request: Req) -> Scope:
    return await request_scope(request, request.user.id, request.user.role)


def found_or_404(value: T | None, what: str) -> T:
    if value is None:
        raise NotFoundException(f"{what} not found")
    return value
