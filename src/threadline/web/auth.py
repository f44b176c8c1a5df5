"""Bearer-token authentication for the REST API."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from threadline.actions.users import hash_token
from threadline.storage.tables import api_tokens, users

__all__ = ["AuthUser", "BearerAuth", "require_admin", "require_agent"]


@dataclass(frozen=True, slots=True)
class AuthUser:
    id: int
    email: str
    name: str
    role: str


# Built once: constructing the statement per request cost more than running it.
_TOKEN_OWNER = (
    sa.select(users.c.id, users.c.email, users.c.name, users.c.role)
    .join(api_tokens, api_tokens.c.user_id == users.c.id)
    .where(
        api_tokens.c.token_hash == sa.bindparam("digest"),
        api_tokens.c.revoked_at.is_(None),
        users.c.deactivated_at.is_(None),
    )
)


class BearerAuth(AbstractAuthenticationMiddleware):
    # No cache: a revoked token, a role change or a deactivated user holds from
    # the next request, in every process. The lookup is one read on the unique
    # token hash, on the event loop itself on SQLite (Database.read_small).

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:  # type: ignore[type-arg]
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("send Authorization: Bearer <token>")
        digest = hash_token(token.strip())
        db = connection.app.state.container.db
        row = await db.read_small(lambda c: c.execute(_TOKEN_OWNER, {"digest": digest}).first())
        if row is None:
            raise NotAuthorizedException("invalid or revoked token")
        return AuthenticationResult(
            user=AuthUser(row.id, row.email, row.name, row.role), auth=digest
        )


# Guards are async on purpose: Litestar runs a sync guard in a worker thread.
async def require_agent(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    if connection.user.role not in ("admin", "agent"):
        raise PermissionDeniedException("viewers cannot change anything")


async def require_admin(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    if connection.user.role != "admin":
        raise PermissionDeniedException("only admins can do this")
