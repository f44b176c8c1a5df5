"""The live workspace: one hub per process between the broker and the open tabs.

The broker carries small id-only events (handlers/realtime.py), published after
commit. The hub renders each one once, with the same macros the pages use, and
hands the fragment to every tab that subscribed to its topic and may see it:
the conversation's inbox must be in the tab's scope, checked per delivery. A tab
that falls too far behind is told to resync instead of growing without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.engine import Connection

from threadline.bootstrap import Container
from threadline.ports import Delivery, Lagged
from threadline.queries.names import names
from threadline.queries.scope import Scope
from threadline.queries.timeline import message_entry, timeline_entry
from threadline.storage.tables import conversations, customers
from threadline.web.ui.inbox_filter import InboxFilter, load_row, sort_key
from threadline.web.ui.render import fragment

__all__ = ["Hub", "Push", "Tab", "publish_viewers"]

log = logging.getLogger(__name__)

TAB_QUEUE = 500  # pushes a tab may hold unsent; past that it resyncs from the database
REPLAY_LIMIT = 500  # deliveries a reconnecting tab may catch up on before it resyncs
SWEEP_SECONDS = 5.0
NAMES_TTL = 5.0


async def publish_viewers(container: Container, conversation_id: int) -> None:
    """Announce who views or types in a conversation now (the collision bar)."""
    viewers = await container.presence.viewers(conversation_id)
    await container.broker.publish(
        f"conversation:{conversation_id}",
        {
            "type": "viewers",
            "conversation_id": conversation_id,
            "viewers": [{"user_id": v.user_id, "typing": v.typing} for v in viewers],
        },
    )


@dataclass(frozen=True, slots=True)
class Push:
    seq: int
    event: str
    data: str


@dataclass(eq=False)
class Tab:
    """One browser tab's stream: who it is, what it shows, what it is owed."""

    user_id: int
    role: str
    scope: Scope
    conversation_id: int | None = None
    inbox: InboxFilter | None = None
    queue: asyncio.Queue[Push] = field(default_factory=lambda: asyncio.Queue(TAB_QUEUE))
    lagged: bool = False

    def topics(self) -> set[str]:
        topics = {"presence"}
        if self.inbox is not None:
            topics.add("inbox")
        if self.conversation_id is not None:
            topics.update({f"conversation:{self.conversation_id}", "inbox"})
        return topics

    def offer(self, push: Push) -> None:
        if self.lagged:
            return
        try:
            self.queue.put_nowait(push)
        except asyncio.QueueFull:
            self.lagged = True


@dataclass(frozen=True, slots=True)
class _Rendered:
    """One delivery, rendered once; ``deliver`` decides per tab what it gets."""

    inbox_id: int | None
    deliver: Callable[[Tab, int], list[Push]]


def _conversation_facts(conn: Connection, conversation_id: int) -> Any:
    return conn.execute(
        sa.select(conversations.c.inbox_id, customers.c.name)
        .join(customers, customers.c.id == conversations.c.customer_id)
        .where(conversations.c.id == conversation_id)
    ).first()


class Hub:
    def __init__(self, app: Litestar, container: Container) -> None:
        self.app = app
        self.container = container
        self.tabs: set[Tab] = set()
        self._task: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._names_cache: tuple[float, dict[int, str], dict[int, str]] | None = None

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="realtime-hub")
            self._sweeper = asyncio.create_task(self._sweep(), name="presence-sweep")

    async def stop(self) -> None:
        for task in (self._task, self._sweeper):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._sweeper = None

    async def _sweep(self) -> None:
        """Tabs that stopped beating go away or offline, viewers stop viewing: every
        process sweeps, and the presence store announces each change once."""
        presence, broker = self.container.presence, self.container.broker
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                for change in await presence.sweep():
                    await broker.publish(
                        "presence",
                        {"type": "presence", "user_id": change.user_id, "state": change.state},
                    )
                for conversation_id in await presence.sweep_viewers():
                    await publish_viewers(self.container, conversation_id)
            except Exception:
                log.exception("presence sweep failed; trying again")

    async def _run(self) -> None:
        while True:
            try:
                async with self.container.broker.listen() as deliveries:
                    async for delivery in deliveries:
                        await self.dispatch(delivery)
                return  # the broker closed: the process is stopping
            except asyncio.CancelledError:
                raise
            except Lagged:
                # The hub fell behind the broker: every tab resyncs from the database.
                log.warning("realtime hub lagged; tabs resync")
                for tab in self.tabs:
                    tab.lagged = True
            except Exception:
                # Whatever broke (a lost Redis connection), tabs must not miss
                # pushes silently: each resyncs, then the hub listens again.
                log.exception("realtime hub: listening failed; tabs resync")
                for tab in self.tabs:
                    tab.lagged = True
                await asyncio.sleep(1.0)

    async def _names(self) -> tuple[dict[int, str], dict[int, str]]:
        """Agents' and teams' names, read at most every few seconds: every push
        needs them and they change rarely (a rename shows on the next read)."""
        now = asyncio.get_running_loop().time()
        if self._names_cache is None or now - self._names_cache[0] > NAMES_TTL:
            people, team_names = await self.container.db.read(names)
            self._names_cache = (now, people, team_names)
        return self._names_cache[1], self._names_cache[2]

    # -- fan-out --------------------------------------------------------------------
    async def dispatch(self, delivery: Delivery) -> None:
        tabs = [t for t in self.tabs if delivery.topic in t.topics()]
        if not tabs:
            return
        try:
            rendered = await self.render(delivery)
        except Exception:
            log.exception("realtime hub: could not render %s", delivery.data.get("type"))
            return
        if rendered is None:
            return
        for tab in tabs:
            if _visible(rendered, tab, delivery.topic):
                for push in rendered.deliver(tab, delivery.seq):
                    tab.offer(push)

    async def catch_up(self, tab: Tab, after: int) -> tuple[int, list[Push]] | None:
        """What a reconnecting tab missed, and the last seq that covers; None when it
        must resync (the broker no longer holds that far back, or it is too much)."""
        missed = await self.container.broker.replay(after, REPLAY_LIMIT)
        if missed is None or len(missed) >= REPLAY_LIMIT:
            return None
        last, pushes = after, []
        topics = tab.topics()
        for delivery in missed:
            last = delivery.seq
            if delivery.topic not in topics:
                continue
            rendered = await self.render(delivery)
            if rendered is None or not _visible(rendered, tab, delivery.topic):
                continue
            pushes.extend(rendered.deliver(tab, delivery.seq))
        return last, pushes

    # -- rendering ------------------------------------------------------------------
    async def render(self, delivery: Delivery) -> _Rendered | None:
        data = delivery.data
        kind = data.get("type")
        handler: dict[str, Callable[[dict[str, Any]], Awaitable[_Rendered | None]]] = {
            "entry": self._entry,
            "status": self._status,
            "row": self._row,
            "presence": self._presence,
            "viewers": self._viewers,
            "visitor_typing": self._visitor_typing,
        }
        if not isinstance(kind, str) or kind not in handler:
            return None
        return await handler[kind](dict(data))

    async def _entry(self, data: dict[str, Any]) -> _Rendered | None:
        entry_id = int(data["entry_id"])
        return await self._render_entry(lambda conn: timeline_entry(conn, entry_id))

    async def _status(self, data: dict[str, Any]) -> _Rendered | None:
        message_id = int(data["message_id"])
        return await self._render_entry(lambda conn: message_entry(conn, message_id))

    async def _render_entry(
        self, load: Callable[[Connection], dict[str, Any] | None]
    ) -> _Rendered | None:
        def read(conn: Connection) -> tuple[Any, Any] | None:
            entry = load(conn)
            if entry is None or entry["conversation_id"] is None:
                return None
            return entry, _conversation_facts(conn, entry["conversation_id"])

        found = await self.container.db.read(read)
        if found is None:
            return None
        entry, facts = found
        people, team_names = await self._names()
        html = fragment(
            self.app,
            "entry",
            entry,
            people,
            customer_name=(facts.name or "Customer"),
            teams=team_names,
        )
        if not html:
            return None  # shown elsewhere (a delivery failure shows on its reply)
        conversation_id = entry["conversation_id"]

        def deliver(tab: Tab, seq: int) -> list[Push]:
            if tab.conversation_id != conversation_id:
                return []
            return [Push(seq, "entry", html)]

        return _Rendered(facts.inbox_id, deliver)

    async def _row(self, data: dict[str, Any]) -> _Rendered | None:
        conversation_id = int(data["conversation_id"])
        changes_list = data.get("changes") or ()
        inbound = "message" in changes_list  # a customer wrote: unread for everyone
        changes = set(changes_list)

        # Four indexed reads on the driver's cursor: on SQLite cheaper on the loop
        # than the two hops to a thread (queries/inbox_rows.py).
        row = await self.container.db.read_small(lambda conn: load_row(conn, conversation_id))
        if row is None:
            return None
        people, _ = await self._names()
        row["unread"] = inbound
        cache: dict[str, str] = {}

        def html_for(sort: str) -> str:
            if sort not in cache:
                shaped = {**row, "sort_key": sort_key(row, sort)}
                cache[sort] = fragment(
                    self.app, "row", shaped, people, unread="set" if inbound else "keep"
                )
            return cache[sort]

        def deliver(tab: Tab, seq: int) -> list[Push]:
            pushes: list[Push] = []
            if tab.inbox is not None:
                pushes.append(Push(seq, "counts", ""))
                if tab.inbox.matches(row, tab.user_id, self.container.clock.now()):
                    pushes.append(Push(seq, "row", html_for(tab.inbox.sort)))
                else:
                    pushes.append(Push(seq, "unrow", f"c-{conversation_id}"))
            if tab.conversation_id == conversation_id and changes - {"message"}:
                pushes.append(Push(seq, "refresh", "convo-head"))
            if (
                "assignee" in changes
                and row.get("assignee_id") == tab.user_id
                and tab.inbox is not None
            ):
                pushes.append(Push(seq, "notify", _notice(row)))
            return pushes

        return _Rendered(row.get("inbox_id"), deliver)

    async def _presence(self, data: dict[str, Any]) -> _Rendered | None:
        states = json.dumps({str(data["user_id"]): data["state"]})
        return _Rendered(None, lambda tab, seq: [Push(seq, "presence", states)])

    async def _viewers(self, data: dict[str, Any]) -> _Rendered | None:
        conversation_id = int(data["conversation_id"])
        viewers = list(data.get("viewers") or [])
        facts = await self.container.db.read(lambda c: _conversation_facts(c, conversation_id))
        if facts is None:
            return None
        people, _ = await self._names()

        def deliver(tab: Tab, seq: int) -> list[Push]:
            if tab.conversation_id != conversation_id:
                return []
            html = _viewers_html(self.app, viewers, people, tab.user_id)
            return [Push(seq, "fragment", html)]

        return _Rendered(facts.inbox_id, deliver)

    async def _visitor_typing(self, data: dict[str, Any]) -> _Rendered | None:
        """A chat visitor is typing (web/widget): shown beside the viewers line."""
        conversation_id = int(data["conversation_id"])
        facts = await self.container.db.read(lambda c: _conversation_facts(c, conversation_id))
        if facts is None:
            return None
        html = fragment(self.app, "visitor_typing", bool(data.get("on")), facts.name)

        def deliver(tab: Tab, seq: int) -> list[Push]:
            if tab.conversation_id != conversation_id:
                return []
            return [Push(seq, "fragment", html)]

        return _Rendered(facts.inbox_id, deliver)


def _visible(rendered: _Rendered, tab: Tab, topic: str) -> bool:
    """The tab's scope, checked on every delivery (it is re-read as the tab lives)."""
    if rendered.inbox_id is not None:
        return tab.scope.allows_inbox(rendered.inbox_id)
    # Belongs to no inbox (a call logged by hand): only for those who see everything.
    return tab.scope.all or topic == "presence"


def _notice(row: dict[str, Any]) -> str:
    who = row.get("customer_name") or f"Customer {row.get('customer_id')}"
    preview = (row.get("last_message") or {}).get("text") or row.get("subject") or ""
    return json.dumps(
        {
            "id": row["id"],
            "title": f"Assigned to you: {who}",
            "body": preview[:140],
            "url": f"/conversations/{row['id']}",
        }
    )


def _viewers_html(
    app: Litestar, viewers: list[dict[str, Any]], people: dict[int, str], me: int
) -> str:
    return fragment(app, "viewers", viewers, people, me)
