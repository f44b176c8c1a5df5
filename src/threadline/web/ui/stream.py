"""One Server-Sent Events stream per tab, and the presence beats tabs send.

A reconnecting EventSource sends Last-Event-ID (the page's first connection
sends ``since``, the broker position the page was rendered at), so a dropped
connection or a slow page load loses nothing: the hub replays what was missed,
or tells the tab to resync when too much was. The session and the scope are
read again every few seconds: a signed-out, deactivated or re-scoped agent's
stream ends or narrows without waiting for a reconnect.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from typing import Annotated

from litestar import Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException
from litestar.params import Body
from litestar.response import Stream

from threadline.actions.assignment_queue import sweep_now
from threadline.actions.errors import NotFound
from threadline.queries.scope import access_conversation
from threadline.web.scope import request_scope
from threadline.web.sessions import SESSION_COOKIE, live_session
from threadline.web.ui.common import Req, container, require_signed_in
from threadline.web.ui.hub import Hub, Push, Tab, publish_viewers
from threadline.web.ui.inbox_filter import InboxFilter

__all__ = ["ROUTES", "hub_of"]

KEEPALIVE = 15.0  # seconds between comments on an idle stream (proxies cut silent ones)
RECHECK = 30.0  # seconds between re-reads of the session and the scope
MAX_TAB_ID = 64
MAX_TABS_PER_PROCESS = 5_000


def hub_of(request: Req) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def _seq(raw: str | None) -> int | None:
    if raw is None:
        return None
    raw = raw.strip()
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


@functools.lru_cache(maxsize=64)
def _frame(push: Push) -> bytes:
    lines = [f"id: {push.seq}", f"event: {push.event}"]
    lines += [f"data: {line}" for line in push.data.splitlines() or [""]]
    return ("\n".join(lines) + "\n\n").encode()


@get("/ui/stream", include_in_schema=False)
async def stream(request: Req) -> Stream:
    agent = await require_signed_in(request)
    hub = hub_of(request)
    hub.start()
    if len(hub.tabs) >= MAX_TABS_PER_PROCESS:
        return Response(  # type: ignore[return-value]
            "too many open tabs", status_code=503, headers={"Retry-After": "10"}
        )
    q = dict(request.query_params)
    conversation_raw = q.get("conversation", "")
    conversation_id = _seq(conversation_raw)
    c = container(request)
    if conversation_id is not None:
        # A conversation out of scope is as absent here as everywhere else.
        await c.db.read(lambda conn: access_conversation(conn, agent.scope, conversation_id))
    tab = Tab(
        user_id=agent.id,
        role=agent.role,
        scope=agent.scope,
        conversation_id=conversation_id,
        inbox=InboxFilter.parse(q) if "inbox" in q else None,
    )
    after = _seq(request.headers.get("last-event-id")) or _seq(q.get("since"))
    token = request.cookies.get(SESSION_COOKIE, "")

    async def events() -> AsyncIterator[bytes]:
        hub.tabs.add(tab)
        try:
            # Register first, then replay: nothing published in between is lost,
            # and anything replayed is not sent twice (seq is the order).
            replayed = 0
            yield b"retry: 2000\n\n"
            if after is not None:
                caught = await hub.catch_up(tab, after)
                if caught is None:
                    yield b"event: resync\ndata: \n\n"
                    return
                replayed, missed = caught
                for push in missed:
                    yield _frame(push)
            checked = asyncio.get_running_loop().time()
            while True:
                if tab.lagged:
                    yield b"event: resync\ndata: \n\n"
                    return
                if tab.queue.empty():
                    try:
                        async with asyncio.timeout(KEEPALIVE):
                            first = await tab.queue.get()
                    except TimeoutError:
                        yield b": keepalive\n\n"
                        first = None
                    pushes = [] if first is None else [first]
                else:
                    pushes = []
                while not tab.queue.empty():
                    pushes.append(tab.queue.get_nowait())
                chunk = b"".join(_frame(p) for p in pushes if p.seq > replayed)
                if chunk:
                    yield chunk
                now = asyncio.get_running_loop().time()
                if now - checked > RECHECK:
                    checked = now
                    session = await live_session(c, token)
                    user = session.get("user")
                    if not user or user["id"] != agent.id:
                        return  # signed out or deactivated: the stream ends with the session
                    tab.role = user["role"]
                    tab.scope = await request_scope(request, user["id"], user["role"])
        finally:
            hub.tabs.discard(tab)

    return Stream(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@post("/ui/presence", include_in_schema=False, status_code=204)
async def presence(
    request: Req,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> None:
    agent = await require_signed_in(request)
    c = container(request)
    tab = str(data.get("tab", ""))[:MAX_TAB_ID]
    if not tab:
        raise NotAuthorizedException("a beat names its tab")
    leaving = data.get("leave") == "1"
    if leaving:
        change = await c.presence.leave(agent.id, tab)
    else:
        change = await c.presence.beat(agent.id, tab, active=data.get("active") == "1")
    if change is not None:
        await c.broker.publish(
            "presence", {"type": "presence", "user_id": agent.id, "state": change.state}
        )
        # Someone is here to take the chats that wait for an online agent.
        if change.state == "online" and await c.bus.execute(sweep_now):
            c.runner.wake()
    conversation_id = _seq(data.get("conversation"))
    if conversation_id is None:
        return
    try:
        await c.db.read(lambda conn: access_conversation(conn, agent.scope, conversation_id))
    except NotFound:
        return  # not theirs to be seen in
    if leaving:
        changed = await c.presence.left(conversation_id, agent.id, tab)
    else:
        changed = await c.presence.viewing(
            conversation_id, agent.id, tab, typing=data.get("typing") == "1"
        )
    if changed:
        await publish_viewers(c, conversation_id)


ROUTES = [stream, presence]
