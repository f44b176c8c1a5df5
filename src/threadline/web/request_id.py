"""Request ids, and the answers to errors nobody handled.

Every HTTP request gets an id: echoed in ``X-Request-ID``, bound to structlog's
context so every line logged while serving it carries ``request_id=``, and put
in the body of a 500, so a user's bug report leads straight to the traceback.
A caller (a proxy, another service) may send its own id; it is kept only when
it is short and plain, since it ends up in our logs and headers.
"""

from __future__ import annotations

import os
import re
from typing import Any, cast

import structlog
from litestar import Request, Response
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "REQUEST_ID_HEADER",
    "RequestIdMiddleware",
    "add_request_id_header",
    "internal_error",
    "request_id",
]

REQUEST_ID_HEADER = "X-Request-ID"
_HEADER = REQUEST_ID_HEADER.lower().encode()
_WELL_FORMED = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

_SCOPE_KEY = "threadline.request_id"

log = structlog.get_logger(__name__)


def request_id(scope: Scope) -> str:
    """The request's id: the caller's when well formed, else a new one; the same
    one for the life of the request, whoever asks first."""
    rid = cast("str | None", scope.get(_SCOPE_KEY))
    if rid is None:
        rid = (
            next(
                (
                    v.decode("ascii")
                    for k, v in scope["headers"]
                    if k == _HEADER and _WELL_FORMED.fullmatch(v)
                ),
                None,
            )
            or os.urandom(8).hex()
        )
        scope[_SCOPE_KEY] = rid  # type: ignore[literal-required]
    return rid


class RequestIdMiddleware:
    """Binds the id to structlog's context while the route runs.

    Plain ASGI, not a Litestar base class: it runs on every request, /healthz too.
    Errors raised by the middleware inside it (authentication, sessions) are
    answered outside it, so the header is added by `add_request_id_header` and
    `internal_error` reads the id from the scope rather than from the context.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        bound = structlog.contextvars.bind_contextvars(request_id=request_id(scope))
        try:
            await self.app(scope, receive, send)
        finally:
            structlog.contextvars.reset_contextvars(**bound)


async def add_request_id_header(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: it sees every answer, even a 404 for no route at all.

    Async on purpose: Litestar runs a sync hook in a worker thread, a hop per answer."""
    if message["type"] == "http.response.start":
        header = (_HEADER, request_id(scope).encode())
        message["headers"] = [*message.get("headers", ()), header]


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    """Log what went wrong with the request id; tell the client only the id.

    The exception's text can hold SQL, paths or a customer's data: it stays in the log.
    """
    rid = request_id(request.scope)
    if str(exc).endswith("client disconnected prematurely"):
        # Litestar's word for a client that hung up mid-body: nothing of ours broke.
        log.info("request.client_gone", request_id=rid, path=request.url.path)
        return Response({"status_code": 400, "detail": "incomplete request"}, status_code=400)
    log.error(
        "request.failed",
        request_id=rid,
        method=request.method,
        path=request.url.path,
        error=type(exc).__name__,
        exc_info=exc,
    )
    return Response(
        {"status_code": 500, "detail": "Internal Server Error", "request_id": rid},
        status_code=500,
    )
