"""The protocols adapters implement. Only bootstrap.py picks concrete ones."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from threadline.core.model import OutboundMessage, ParseResult

__all__ = [
    "Broker",
    "Delivery",
    "Inbox",
    "Lagged",
    "Parser",
    "Presence",
    "PresenceChange",
    "Sender",
    "Viewer",
]


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


@dataclass(frozen=True, slots=True)
class Delivery:
    """One published realtime event, as every process sharing the broker sees it."""

    seq: int  # global and strictly increasing across the processes sharing a broker
    topic: str  # "conversation:12", "customer:7", "inbox", "presence"...
    data: Mapping[str, Any]  # JSON-able, ids only: the hub renders what the page shows


class Lagged(Exception):
    """A listener fell further behind than its buffer, or the broker lost history.

    ``after`` is the last seq the listener received: the caller may try
    ``replay(after)``, and resyncs from the database when that says None.
    """

    def __init__(self, after: int) -> None:
        super().__init__(f"realtime listener lagged after seq {after}")
        self.after = after


class Broker(Protocol):
    """Realtime fan-out with one global seq order (in-process, or Redis when scaled)."""

    async def start(self) -> None:
        """Connect and start listening; idempotent."""

    async def aclose(self) -> None:
        """Stop; listeners' iterations end."""

    async def publish(self, topic: str, data: Mapping[str, Any]) -> int:
        """Publish to every process; returns the seq. ValueError when too large."""

    def listen(self) -> AbstractAsyncContextManager[AsyncIterator[Delivery]]:
        """The firehose: every delivery published after entry, in seq order, no gaps,
        no duplicates. Raises Lagged when the listener falls behind its buffer."""

    async def replay(self, after: int, limit: int = 1000) -> list[Delivery] | None:
        """Deliveries with seq > after, oldest first, at most ``limit`` (capped);
        None when ``after`` is outside the retained history (resync from the DB)."""

    async def last_seq(self) -> int: ...


@dataclass(frozen=True, slots=True)
class PresenceChange:
    user_id: int
    state: str  # "online" | "away" | "offline"


@dataclass(frozen=True, slots=True)
class Viewer:
    user_id: int
    typing: bool


class Presence(Protocol):
    """Who is online, per agent across tabs, and who views or types in a conversation.

    Every method compares against the last state it announced, so a change is
    returned once (across processes, with Redis), and ``states``/``viewers``
    return what was announced: a snapshot plus the changes stays exact.
    """

    async def beat(self, user_id: int, tab: str, *, active: bool) -> PresenceChange | None:
        """A tab is alive (active: visible and recently used); the change, if any."""

    async def leave(self, user_id: int, tab: str) -> PresenceChange | None: ...

    async def states(self, user_ids: Iterable[int] | None = None) -> dict[int, str]:
        """Announced states of agents not offline (absent means offline)."""

    async def sweep(self) -> list[PresenceChange]:
        """Expire dead tabs; the agents whose state changed. The hub calls it often."""

    async def viewing(self, conversation_id: int, user_id: int, tab: str, *, typing: bool) -> bool:
        """A tab shows the conversation (typing or not); True if its viewers changed."""

    async def left(self, conversation_id: int, user_id: int, tab: str) -> bool: ...

    async def viewers(self, conversation_id: int) -> list[Viewer]:
        """Announced viewers, by user id; typing if any of their tabs is."""

    async def sweep_viewers(self) -> list[int]:
        """Expire dead viewers and typing flags; the conversations whose viewers changed."""

    async def aclose(self) -> None: ...
