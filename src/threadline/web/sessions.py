"""Agent UI sessions, server-side (actions/sessions.py holds the rows).

Every UI request looks its session up in the database, joined to the user, so
a logout, a role change or a deactivation holds from the next request on,
whichever process serves it. ``request.session`` is the dict the views read:
``{"user": {...}}`` for a live session, ``{}`` otherwise.
"""

from __future__ import annotations

import hmac
import re
from typing import Any

import sqlalchemy as sa
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from threadline.actions.sessions import digest
from threadline.settings import Settings
from threadline.storage.tables import sessions, users

__all__ = [
    "CSRF_COOKIE",
    "EXCLUDED",
    "SESSION_COOKIE",
    "SessionMiddleware",
    "bind_csrf",
    "live_session",
    "session_cookies",
]

SESSION_COOKIE = "tl_session"
CSRF_COOKIE = "tl_csrf"
# Token-authenticated and provider-signed endpoints carry no session; /media/
# links are signed by us and fetched by providers; widget visitors have sessions
# of their own (web/widget/), never an agent's cookie.
EXCLUDED = (
    "^/api/",
    "^/webhooks/",
    "^/sandbox/",
    "^/media/",
    "^/widget(/|\\.js$)",
    "^/static/",
    "^/healthz$",
    "^/metrics$",
)
_SAFE = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_MAX_COOKIE = 100  # ours are 43 characters: anything longer is not a session id


_EXCLUDED = re.compile("|".join(EXCLUDED))


# Built once: it runs on every UI request.
_LIVE_SESSION = (
    sa.select(users.c.id, users.c.email, users.c.name, users.c.role, sessions.c.csrf_hash)
    .join(users, users.c.id == sessions.c.user_id)
    .where(
        sessions.c.id_hash == sa.bindparam("id_hash"),
        sessions.c.expires_at > sa.bindparam("now", type_=sessions.c.expires_at.type),
        users.c.deactivated_at.is_(None),
    )
)


async def live_session(container: Any, token: str) -> dict[str, Any]:
    """The session a cookie names, read fresh: ``{"user": ..., "_csrf_hash": ...}``,
    or ``{}`` when it is unknown, expired, or its user is deactivated."""
    if not token or len(token) > _MAX_COOKIE:
        return {}
    key = {"id_hash": digest(token), "now": container.clock.now()}
    row = await container.db.read_small(lambda c: c.execute(_LIVE_SESSION, key).first())
    if row is None:
        return {}
    return {
        "user": {"id": row.id, "email": row.email, "name": row.name, "role": row.role},
        "_csrf_hash": row.csrf_hash,
    }


class SessionMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP, ScopeType.WEBSOCKET)
    should_bypass_for_scope = staticmethod(lambda scope: bool(_EXCLUDED.match(scope["path"])))

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        token = connection.cookies.get(SESSION_COOKIE, "")
        container = scope["litestar_app"].state.container
        scope["session"] = await live_session(container, token)
        await next_app(scope, receive, send)


async def bind_csrf(request: Request[Any, Any, Any]) -> None:
    """A form posted in a session must carry that session's own CSRF token.

    Litestar's CSRF middleware has already checked the token against the CSRF
    cookie (and left it in the scope); a cookie planted from another session
    passes that check, so the session's own record decides. Sign-in is exempt:
    it replaces the session, and a stale one must not lock the agent out.
    """
    if request.method in _SAFE or request.url.path == "/login":
        return
    session = request.scope.get("session")
    expected = session.get("_csrf_hash") if isinstance(session, dict) else None
    if expected is None:
        return
    submitted = ScopeState.from_scope(request.scope).csrf_token
    if not isinstance(submitted, str) or not hmac.compare_digest(digest(submitted), expected):
        raise PermissionDeniedException("CSRF token verification failed")


def session_cookies(settings: Settings, token: str | None, csrf_token: str | None) -> list[Cookie]:
    """The cookies that start a session (or, given None, end it)."""
    secure = settings.secure_cookies()
    age = int(settings.session_hours * 3600)
    return [
        Cookie(
            key=SESSION_COOKIE,
            value=token or "",
            max_age=age if token else 0,
            httponly=True,
            samesite="lax",
            secure=secure,
            path="/",
        ),
        # The session's CSRF token replaces the pre-sign-in one.
        Cookie(
            key=CSRF_COOKIE,
            value=csrf_token or "",
            max_age=None if csrf_token else 0,
            httponly=False,
            samesite="lax",
            secure=secure,
            path="/",
        ),
    ]
