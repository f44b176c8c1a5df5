"""The scope of the user behind a request, read once per request (queries/scope.py)."""

from __future__ import annotations

from typing import Any

from litestar import Request

from threadline.bootstrap import Container
from threadline.queries.scope import EVERYTHING, Scope, load_scope

__all__ = ["request_scope"]


async def request_scope(request: Request[Any, Any, Any], user_id: int, role: str) -> Scope:
    """Admins see everything without a read; everyone else's teams are read fresh,
    so a change of teams or of the all-inboxes flag applies to the next request."""
    if role == "admin":
        return EVERYTHING
    container: Container = request.app.state.container
    return await container.db.read_small(lambda c: load_scope(c, user_id, role))
