"""The visitors' live side: one hub per process between the broker and the sockets.

Like the agents' hub (web/ui/hub.py), it listens to the broker's firehose. A
``visitor:{id}`` delivery only wakes that visitor's local sockets: each socket
then reads the events after the last seq it sent from the database, so a wake
that is lost, doubled or late changes nothing about what the visitor sees.
``conversation:{id}`` viewer changes become the agent's ``typing`` frames, and
``presence`` changes (and, every minute, the clock: business hours) become
``presence`` frames when an inbox's availability changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from threadline.bootstrap import Container
from threadline.ports import Delivery, Lagged
from threadline.queries.names import names
from threadline.web.widget.frames import frame
from threadline.web.widget.service import Visitor, WidgetService

__all__ = ["SOCKET_QUEUE", "VisitorSocket", "WidgetHub"]

log = logging.getLogger(__name__)

SOCKET_QUEUE = 64  # frames other than events a socket may hold unsent; past that it closes
HOURS_TICK = 60.0  # seconds between checks of business hours for open sockets
NAMES_TTL = 5.0


@dataclass(eq=False)
class VisitorSocket:
    """One open widget socket: whose it is, what it was sent, what it is owed."""

    visitor: Visitor
    sent_seq: int = 0  # the last event seq sent
    read_seq: int = 0  # the last agent read mark sent
    conversation_id: int | None = None
    typing_shown: tuple[bool, str | None] = (False, None)
    presence_shown: tuple[bool, str] | None = None
    outbox: deque[dict[str, Any]] = field(default_factory=deque)
    signal: asyncio.Event = field(default_factory=asyncio.Event)
    pending: bool = True  # events may be waiting in the database
    overflow: bool = False

    def offer(self, data: dict[str, Any]) -> None:
        """Queue a frame; a socket whose client stopped reading is closed, not grown."""
        if len(self.outbox) >= SOCKET_QUEUE:
            self.overflow = True
        else:
            self.outbox.append(data)
        self.signal.set()

    def wake(self) -> None:
        self.pending = True
        self.signal.set()


class WidgetHub:
    def __init__(self, container: Container, service: WidgetService) -> None:
        self.container = container
        self.service = service
        self.sockets: dict[int, set[VisitorSocket]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._names: tuple[float, dict[int, str]] | None = None

    def __len__(self) -> int:
        return sum(len(s) for s in self.sockets.values())

    def all_sockets(self) -> Iterable[VisitorSocket]:
        for group in self.sockets.values():
            yield from group

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._run(), name="widget-hub"),
                asyncio.create_task(self._tick(), name="widget-hours"),
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def add(self, socket: VisitorSocket) -> None:
        self.sockets.setdefault(socket.visitor.id, set()).add(socket)

    def discard(self, socket: VisitorSocket) -> None:
        group = self.sockets.get(socket.visitor.id)
        if group is not None:
            group.discard(socket)
            if not group:
                del self.sockets[socket.visitor.id]

    async def _run(self) -> None:
        while True:
            try:
                async with self.container.broker.listen() as deliveries:
                    async for delivery in deliveries:
                        await self.dispatch(delivery)
                return  # the broker closed: the process is stopping
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Lagged, or a lost Redis connection: a wake may be lost, so every
                # socket reads the database again (events are exact either way).
                if not isinstance(exc, Lagged):
                    log.exception("widget hub: listening failed; sockets resync")
                    await asyncio.sleep(1.0)
                for socket in self.all_sockets():
                    socket.wake()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(HOURS_TICK)
            try:
                self.service.forget_availability()
                await self.announce_presence()
            except Exception:
                log.exception("widget hub: presence check failed; trying again")

    # -- fan-out --------------------------------------------------------------------
    async def dispatch(self, delivery: Delivery) -> None:
        topic, data = delivery.topic, delivery.data
        kind = data.get("type")
        if topic.startswith("visitor:"):
            for socket in self.sockets.get(_id(topic), ()):
                socket.wake()
        elif topic.startswith("conversation:") and kind == "viewers":
            await self._agent_typing(_id(topic), list(data.get("viewers") or ()))
        elif topic == "presence" and self.sockets:
            self.service.forget_availability()
            await self.announce_presence()

    async def _agent_typing(self, conversation_id: int, viewers: list[Any]) -> None:
        sockets = [s for s in self.all_sockets() if s.conversation_id == conversation_id]
        if not sockets:
            return
        typing = [v.get("user_id") for v in viewers if isinstance(v, dict) and v.get("typing")]
        name = None
        if typing:
            people = await self._people()
            name = people.get(typing[0]) if isinstance(typing[0], int) else None
        shown = (bool(typing), name)
        for socket in sockets:
            if socket.typing_shown != shown:
                socket.typing_shown = shown
                socket.offer(frame("typing", on=shown[0], name=shown[1]))

    async def announce_presence(self) -> None:
        """Each socket whose inbox's availability changed since it was told gets a
        ``presence`` frame (computed once per inbox)."""
        by_inbox: dict[int, list[VisitorSocket]] = {}
        for socket in self.all_sockets():
            by_inbox.setdefault(socket.visitor.widget.inbox.id, []).append(socket)
        for sockets in by_inbox.values():
            now = await self.service.availability(sockets[0].visitor.widget)
            shown = (now.online, now.expect)
            for socket in sockets:
                if socket.presence_shown != shown:
                    socket.presence_shown = shown
                    socket.offer(frame("presence", online=now.online, expect=now.expect))

    async def _people(self) -> dict[int, str]:
        now = asyncio.get_running_loop().time()
        if self._names is None or now - self._names[0] > NAMES_TTL:
            people, _ = await self.container.db.read(names)
            self._names = (now, people)
        return self._names[1]


def _id(topic: str) -> int:
    raw = topic.partition(":")[2]
    return int(raw) if raw.isdigit() and len(raw) < 19 else -1
