"""The protocols adapters implement. Only bootstrap.py picks concrete ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from threadline.core.model import OutboundMessage, ParseResult

__all__ = ["Broker", "Inbox", "Parser", "Sender"]


@dataclass(frozen=True, slots=True)
class Inbox:
    id: int
    channel: str
    name: str
    address: str
    # Holds provider secrets: kept out of repr, so no log line or traceback shows them.
    config: Mapping[str, Any] = field(default_factory=dict, repr=False)


class Parser(Protocol):
    """Turns a stored payload into the one inbound shape (or several, for
    providers that batch events). Raises core.model.PayloadError, and nothing
    else, on a payload it cannot use; the bus quarantines it with that reason
    (and any other exception too, as a bug, so no payload can stop ingest)."""

    offload: bool  # True for parsers costly enough to run big payloads off the event loop

    def __call__(
        self, inbox: Inbox, body: bytes, context: Mapping[str, Any]
    ) -> ParseResult | Sequence[ParseResult]: ...


class Sender(Protocol):
    """Sends one outbound message; returns the provider's id for it, if any.
    Raises threadline.core.model.DeliveryError when it cannot."""

    async def send(self, inbox: Inbox, message: OutboundMessage) -> str | None: ...


Subscriber = Callable[[str, Mapping[str, Any]], Awaitable[None] | None]


class Broker(Protocol):
    """Realtime pushes to agents and visitors (in-process, or Redis when scaled)."""

    async def publish(self, topic: str, data: Mapping[str, Any]) -> None: ...

    def subscribe(self, topic: str) -> Any: ...
