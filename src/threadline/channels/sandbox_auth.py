"""What every provider stand-in checks: credentials that belong to one of our
inboxes in sandbox mode. Anyone else gets the provider's own refusal, so the
sandboxes write nothing for a caller who holds no inbox's secrets."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from litestar import Request

from threadline.bus import Bus
from threadline.ports import Inbox

__all__ = ["same", "sandbox_inbox"]


def same(given: str, expected: Any) -> bool:
    """Constant-time equality with a configured secret; an unset secret matches nothing."""
    return bool(expected) and hmac.compare_digest(given.encode(), str(expected).encode())


async def sandbox_inbox(
    request: Request[Any, Any, Any], channels: tuple[str, ...], matches: Callable[[Inbox], bool]
) -> Inbox | None:
    """The sandbox inbox of one of ``channels`` whose credentials ``matches`` accepts."""
    # The app keeps its container in state (web.app); reading it from there
    # keeps the channels free of imports from the web layer above them.
    bus: Bus = request.app.state.container.bus
    for attempt in range(2):
        for inbox in await bus.all_inboxes():
            if inbox.channel in channels and inbox.config.get("sandbox") and matches(inbox):
                return inbox
        if attempt == 0:
            await bus.reload_inboxes()  # an inbox added by another process since we cached
    return None
