"""Bearer-token authentication for the REST API."""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from threadline.actions.users import hash_token
from threadline.storage.tables import api_tokens, users

__all__ = ["AuthUser", "BearerAuth", "require_admin", "require_agent"]

_CACHE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class AuthUser:
    id: int
    email: str
    name: str
    role: str


class BearerAuth(AbstractAuthenticationMiddleware):
    # Token lookups are cached briefly: at thousands of API calls a second a
    # database read per request would cost more than the work itself.
    _cache: dict[str, tuple[AuthUser, float]] = {}  # noqa: RUF012 - process-wide by design

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:  # type: ignore[type-arg]
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("send Authorization: Bearer <token>")
        digest = hash_token(token.strip())
        hit = self._cache.get(digest)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            return AuthenticationResult(user=hit[0], auth=digest)
        db = connection.app.state.container.db
        row = await db.read(
            lambda c: c.execute(
                sa.select(users.c.id, users.c.email, users.c.name, users.c.role)
                .join(api_tokens, api_tokens.c.user_id == users.c.id)
                .where(api_tokens.c.token_hash == digest, api_tokens.c.revoked_at.is_(None))
            ).first()
        )
        if row is None:
            raise NotAuthorizedException("invalid or revoked token")
        user = AuthUser(row.id, row.email, row.name, row.role)
        self._cache[digest] = (user, now + _CACHE_SECONDS)
        return AuthenticationResult(user=user, auth=digest)


def require_agent(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    if connection.user.role not in ("admin", "agent"):
        raise PermissionDeniedException("viewers cannot change anything")


def require_admin(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    if connection.user.role != "admin":
        raise PermissionDeniedException("only admins can do this")
