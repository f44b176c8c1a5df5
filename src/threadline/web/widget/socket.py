"""``WS /widget/ws?inbox=KEY``: one visitor's live chat (docs/widget.md).

The handshake is refused (closed before accept: HTTP 403) for an unknown inbox
or an Origin the inbox does not allow. The first frame must be ``hello``, within
10 seconds. Then two tasks share the socket: the reader handles the visitor's
frames one at a time (so their messages are stored in the order sent), and the
writer is the only one that sends: control frames from a bounded queue, and the
visitor's events read from the database after the last seq it sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from threadline.bus import StorageUnavailable
from threadline.channels.chat.frames import (
    Csat,
    Frame,
    FrameError,
    Hello,
    Ping,
    Profile,
    Read,
    Send,
    Transcript,
    Typing,
    decode_frame,
)
from threadline.queries import chat as q
from threadline.web.login import client_address
from threadline.web.widget.config import WidgetInbox
from threadline.web.widget.frames import dumps, frame
from threadline.web.widget.hub import VisitorSocket, WidgetHub
from threadline.web.widget.service import WidgetError, WidgetService
from threadline.web.widget.state import widget_state

__all__ = ["ROUTES"]

log = logging.getLogger(__name__)

HELLO_SECONDS = 10.0
MAX_BAD_FRAMES = 20  # in a row; then the socket closes with 1008
MAX_SOCKETS = 10_000  # per process
POLICY = 1008  # close codes: a broken rule,
TRY_LATER = 1013  # too busy,
SERVER_ERROR = 1011  # our fault (the widget reconnects and resends what was not acked)


class _Closed(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


@websocket("/widget/ws")
async def widget_socket(socket: WebSocket[Any, Any, Any]) -> None:
    state = widget_state(socket.app)
    service = state.service
    w = await service.chat_inbox(socket.query_params.get("inbox"))
    if w is None or not service.allowed(w, socket.headers.get("origin")):
        await socket.receive()  # the connect event
        await socket.close(code=POLICY)  # before accept: the client gets HTTP 403
        return
    await socket.accept()
    if len(state.hub) >= MAX_SOCKETS:
        await socket.close(code=TRY_LATER, reason="too many open chats; try again soon")
        return
    client = client_address(socket, service.c.settings.trusted_proxies)
    session = _Session(socket, service, state.hub, client)
    try:
        await session.run(w)
    except _Closed as closed:
        with contextlib.suppress(Exception):
            await socket.close(code=closed.code, reason=closed.reason)
    except (WebSocketDisconnect, OSError, asyncio.CancelledError):
        pass  # the visitor left (uvicorn's ClientDisconnected is an OSError)
    except StorageUnavailable:
        with contextlib.suppress(Exception):
            await socket.close(code=SERVER_ERROR, reason="storage is unavailable; reconnect")
    except Exception:
        log.exception("widget socket failed")
        with contextlib.suppress(Exception):
            await socket.close(code=SERVER_ERROR, reason="server error; reconnect")


class _Session:
    def __init__(
        self, ws: WebSocket[Any, Any, Any], service: WidgetService, hub: WidgetHub, client: str
    ) -> None:
        self.ws, self.service, self.hub, self.client = ws, service, hub, client
        self.bad = 0

    async def _receive(self, sock: VisitorSocket | None = None) -> Frame | None:
        """The next frame; None after a bad one, which is answered with an error frame
        (sent here before hello, queued for the writer after)."""
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(detail="gone")
        raw = message.get("text")
        try:
            self.service.limit("frames", self.client)
            if not isinstance(raw, str):
                raise FrameError("bad_frame", "frames are JSON text")
            found = decode_frame(raw)
        except (FrameError, WidgetError) as exc:
            if isinstance(exc, FrameError):
                self.bad += 1
            await self._refuse(exc, sock)
            if self.bad >= MAX_BAD_FRAMES:
                raise _Closed(POLICY, "too many bad frames") from exc
            return None
        self.bad = 0
        return found

    async def _refuse(self, exc: FrameError | WidgetError, sock: VisitorSocket | None) -> None:
        body = exc.body() if isinstance(exc, WidgetError) else {"code": exc.code}
        body.setdefault("message", exc.message)
        if sock is None:
            await self.ws.send_text(dumps(frame("error", **body)))
        else:
            sock.offer(frame("error", **body))

    async def run(self, w: WidgetInbox) -> None:
        hello: Hello | None = None
        try:
            async with asyncio.timeout(HELLO_SECONDS):
                while hello is None:
                    found = await self._receive()
                    if isinstance(found, Hello):
                        hello = found
                    elif found is not None:
                        self.bad += 1
                        await self._refuse(FrameError("bad_frame", "say hello first"), None)
        except TimeoutError:
            raise _Closed(POLICY, "no hello within 10 seconds") from None
        try:
            visitor, welcome = await self.service.hello(
                w,
                token=hello.token,
                claim=hello.identity,
                client=self.client,
                origin=self.ws.headers.get("origin"),
                resume=hello.resume,
            )
        except WidgetError as exc:
            await self._refuse(exc, None)
            raise _Closed(POLICY, exc.message) from exc
        refused = welcome.pop("error", None)
        if refused is not None:
            await self.ws.send_text(dumps(frame("error", **refused)))
        await self.ws.send_text(dumps(frame("welcome", **welcome)))
        # A new visitor (no token, or another person signed in) has none of the events
        # the widget may remember; and no widget can hold a seq not given out yet.
        since = 0 if welcome["token"] != hello.token else min(hello.since, welcome["seq"])
        sock = VisitorSocket(visitor, sent_seq=since)
        sock.presence_shown = (welcome["online"], welcome["expect"])
        self.hub.start()
        # Register, then read: an event stored in between is read, never missed,
        # and seq keeps what was read from being sent twice.
        self.hub.add(sock)
        sock.wake()
        tasks = [
            asyncio.create_task(self._reader(sock), name="widget-reader"),
            asyncio.create_task(self._writer(sock), name="widget-writer"),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # raise what ended it
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.hub.discard(sock)
            with contextlib.suppress(Exception):
                await self.service.typing(visitor, False)

    async def _reader(self, sock: VisitorSocket) -> None:
        while True:
            found = await self._receive(sock)
            if found is None:
                continue
            try:
                await self._handle(sock, found)
            except WidgetError as exc:
                sock.offer(frame("error", **exc.body()))

    async def _handle(self, sock: VisitorSocket, f: Frame) -> None:
        v, service = sock.visitor, self.service
        if isinstance(f, Send):
            sock.offer(frame("ack", **await service.send(v, f)))
        elif isinstance(f, Read):
            await service.read(v, f.seq)
        elif isinstance(f, Typing):
            await service.typing(v, f.on)
        elif isinstance(f, Profile):
            await service.profile(v, f.name, f.email)
        elif isinstance(f, Csat):
            await service.csat(v, f.score, f.comment)
        elif isinstance(f, Transcript):
            await service.transcript(v, f.email)
        elif isinstance(f, Ping):
            sock.offer(frame("pong"))
            await service.seen(v)  # the page is still open: no follow-up mail yet
        else:
            raise WidgetError("bad_frame", "hello was said already")

    async def _writer(self, sock: VisitorSocket) -> None:
        while True:
            await sock.signal.wait()
            sock.signal.clear()
            if sock.overflow:
                raise _Closed(POLICY, "the client is not reading its frames")
            while sock.outbox:
                await self.ws.send_text(dumps(sock.outbox.popleft()))
            if sock.pending:
                sock.pending = False
                await self._catch_up(sock)

    async def _catch_up(self, sock: VisitorSocket) -> None:
        """Send every event after the last one sent, 200 at a time, then the agents'
        read mark if it moved."""
        v = sock.visitor
        state, events = await self.service.state_and_events(v, sock.sent_seq)
        if state is None:
            raise _Closed(POLICY, "the chat session has ended")
        sock.conversation_id = state.conversation_id
        while True:
            for body in events:
                await self.ws.send_text(dumps(frame("event", **body)))
                sock.sent_seq = body["seq"]
            if len(events) < q.MAX_PAGE:
                break
            events = await self.service.events(v, sock.sent_seq)
        if state.agent_read_seq > sock.read_seq:
            sock.read_seq = state.agent_read_seq
            await self.ws.send_text(dumps(frame("read", seq=state.agent_read_seq)))


ROUTES = [widget_socket]
