"""Errors and headers for the workspace's HTML: a friendly 404 page instead of raw
JSON, and a strict Content-Security-Policy on every page."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.response import Template
from litestar.types import Message, Scope

__all__ = ["CSP", "add_page_headers", "not_found"]

# Nothing inline, nothing from elsewhere: a stored script in a customer's message
# could not run even if it slipped past escaping. Recordings may play from the
# provider (https); the original of an email loads from us, in a sandboxed frame.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' https:; frame-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_MACHINE = (
    "/api/",
    "/webhooks/",
    "/sandbox/",
    "/media/",
    "/widget",
    "/healthz",
    "/metrics",
    "/static/",
    "/ui/",
)
_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


def _for_machines(path: str) -> bool:
    return path.startswith(_MACHINE)


async def add_page_headers(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: HTML answers get the policy unless they set their own."""
    if message["type"] != "http.response.start" or str(scope.get("path", "")).startswith("/api/"):
        return
    headers = list(message.get("headers", ()))
    names = {name.lower() for name, _ in headers}
    content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    if not content_type.startswith(b"text/html"):
        return
    message["headers"] = [*headers, *(h for h in _HEADERS if h[0] not in names)]


def not_found(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """404 for a person is a page; for a program (API, webhooks) it stays JSON."""
    if _for_machines(request.url.path):
        return Response({"status_code": 404, "detail": str(exc) or "Not Found"}, status_code=404)
    session = request.scope.get("session")
    user = session.get("user") if isinstance(session, dict) else None
    agent = None
    if isinstance(user, dict):
        agent = {**user, "is_admin": user.get("role") == "admin", "can_write": True}
    return Template(
        "404.html",
        context={"agent": agent, "path": request.url.path, "my_teams": [], "people": {}},
        status_code=404,
    )
