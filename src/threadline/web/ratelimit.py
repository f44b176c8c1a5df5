"""Per-client rate limits in front of the whole app, and who the client is.

A flood is cheapest to refuse before anything else runs: no routing, form
parsing, CSRF check, session lookup or template. The sign-in page gets a budget
per client address that no person reaches (core/ratelimit.py); a client past it
is answered 429 with Retry-After. The per-account and per-address failure
throttle in web/login.py still decides every try that gets through.

The refusal is held back a moment (``hold`` seconds) before it is sent. A
guessing tool waits for each answer before its next try, so the hold caps its
rate at what it costs us nothing to refuse; a person who got here waits a second
more. Holding costs a sleeping task per refused request, and at most ``max_held``
are held at once: past that the answer goes out at once.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import anyio
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Receive, Scope, Send

from threadline.core.ratelimit import RateLimit, TokenBuckets

__all__ = ["ClientRateLimit", "PathLimit", "peer_address"]


def peer_address(scope: Scope, trusted_proxies: Sequence[str]) -> str:
    """The socket peer; through a trusted proxy, the nearest untrusted X-Forwarded-For hop."""
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    if peer not in trusted_proxies:
        return peer
    forwarded = b",".join(v for k, v in scope.get("headers", ()) if k == b"x-forwarded-for")
    hops = [h.strip() for h in forwarded.decode("latin-1").split(",")]
    for hop in reversed(hops):
        if hop and hop not in trusted_proxies:
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a proxy we trust would not write this
    return peer


@dataclass(frozen=True, slots=True)
class PathLimit:
    path: str  # exact
    limit: RateLimit
    message: str


class ClientRateLimit:
    """ASGI middleware: each PathLimit's requests, counted per client address."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limits: Sequence[PathLimit],
        trusted_proxies: Sequence[str] = (),
        clock: Callable[[], float],  # seconds
        hold: float = 0.0,
        max_held: int = 512,
    ) -> None:
        self.app = app
        self.trusted = tuple(trusted_proxies)
        self.clock = clock
        self.hold = hold
        self.max_held = max_held
        self._held = 0
        self._by_path = {pl.path: (TokenBuckets(pl.limit), pl.message) for pl in limits}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._by_path.get(scope["path"]) if scope["type"] == ScopeType.HTTP else None
        if found is not None:
            buckets, message = found
            wait = buckets.take(peer_address(scope, self.trusted), self.clock())
            if wait > 0:
                await self._hold()
                await _too_many(send, math.ceil(wait), message)
                return
        await self.app(scope, receive, send)

    async def _hold(self) -> None:
        if self.hold <= 0 or self._held >= self.max_held:
            return
        self._held += 1
        try:
            await anyio.sleep(self.hold)
        finally:
            self._held -= 1


async def _too_many(send: Send, retry_after: int, message: str) -> None:
    body = f"{message} Try again in {retry_after} seconds.\n".encode()
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 429,
        "headers": [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry_after).encode()),
            (b"cache-control", b"no-store"),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
