"""What every provider webhook needs: the URL the provider signed, and the inbox."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import NotFoundException

from threadline.bootstrap import Container
from threadline.bus import StorageUnavailable
from threadline.ports import Inbox

__all__ = ["container_of", "inbox_by_address", "signed_url", "storage_unavailable"]

log = structlog.get_logger(__name__)
RETRY_AFTER_SECONDS = 30


def container_of(request: Request[Any, Any, Any]) -> Container:
    container: Container = request.app.state.container
    return container


def signed_url(request: Request[Any, Any, Any]) -> str:
    """The URL exactly as the provider requested it, including the query string.

    Behind a proxy or tunnel the Host we see is not the one the provider signed,
    so THREADLINE_PUBLIC_URL, when set, replaces scheme, host and port.
    """
    public = container_of(request).settings.public_url
    # raw_path keeps the percent-encoding the provider signed; some servers (and
    # Litestar's test client) leave the query on it, which ASGI puts elsewhere.
    raw = request.scope.get("raw_path", b"").decode("latin-1").partition("?")[0]
    path = raw or request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    if public:
        url = public.rstrip("/") + path
    else:
        url = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}{path}"
    return f"{url}?{query}" if query else url


async def inbox_by_address(
    request: Request[Any, Any, Any], channels: tuple[str, ...], address: str
) -> Inbox:
    """The inbox a provider's payload is for (a phone number, a page or account id)."""
    wanted = address.strip().lower()
    bus = container_of(request).bus
    for attempt in range(2):
        for inbox in await bus.all_inboxes():
            if inbox.channel in channels and inbox.address.lower() == wanted:
                return inbox
        if attempt == 0:
            await bus.reload_inboxes()  # an inbox added by another process since we cached
    raise NotFoundException(f"no {'/'.join(channels)} inbox for {address}")


def storage_unavailable(
    request: Request[Any, Any, Any], exc: StorageUnavailable
) -> Response[dict[str, Any]]:
    """503 when a payload could not even be quarantined: nothing was kept, so the
    provider must retry (every provider retries a 5xx; none retries a 200)."""
    log.error("storage.unavailable", path=request.url.path, error=str(exc))
    return Response(
        {
            "status_code": 503,
            "detail": "storage is unavailable; nothing was stored, please retry",
        },
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
