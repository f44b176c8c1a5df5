"""The sandbox's answer to Graph's ``GET /{version}/me``: whom a sandbox inbox's
access token belongs to (its Page, number or account); the settings page's
"test credentials" asks this."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from threadline.channels.meta.sandbox import _error
from threadline.channels.sandbox_auth import same, sandbox_inbox

__all__ = ["ROUTES"]


@get("/sandbox/meta/{version:str}/me", include_in_schema=False)
async def graph_me(request: Request[Any, Any, Any], version: FromPath[str]) -> Response[Any]:
    if not version.startswith("v"):
        return _error(f"Unknown path components: /{version}/me", 2500)
    header = request.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip()
    if not token or not header.startswith("Bearer "):
        return _error("An access token is required to request this resource.", 104)
    inbox = await sandbox_inbox(
        request,
        ("whatsapp", "messenger", "instagram"),
        lambda i: same(token, i.config.get("access_token")),
    )
    if inbox is None:
        return _error("Invalid OAuth access token - Cannot parse access token", 190, 401)
    node = str(inbox.config.get("page_id") or inbox.config.get("phone_number_id") or inbox.address)
    return Response({"id": node, "name": inbox.name}, status_code=200)


ROUTES = [graph_me]
