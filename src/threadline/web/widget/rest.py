"""The widget's REST fallback, for pages where a WebSocket cannot open (docs/widget.md).

JSON under ``/widget/``, the visitor's session token in ``Authorization: Bearer``.
CORS is answered only to an origin the visitor's inbox allows. A preflight cannot
name its visitor (it carries no Authorization), so it is answered to an origin
some chat inbox allows, and the request itself is then checked against its own
inbox: a page allowed elsewhere gets a 403 it cannot read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response, get, post, route
from litestar.datastructures import UploadFile
from litestar.enums import HttpMethod

from threadline.bus import StorageUnavailable
from threadline.channels.chat.frames import MAX_FRAME, Csat, IdentityClaim, Profile, Read, Send
from threadline.channels.chat.frames import Transcript as TranscriptBody
from threadline.queries import chat as q
from threadline.web.login import client_address
from threadline.web.widget.service import MAX_UPLOAD, Visitor, WidgetError, WidgetService
from threadline.web.widget.state import widget_state

__all__ = ["ROUTES", "cors_headers"]

Req = Request[Any, Any, Any]
T = TypeVar("T")

READ_LIMIT = 4 * MAX_FRAME  # bytes Litestar reads; past MAX_FRAME we answer too_large ourselves
DEFAULT_EVENTS = 100
PATHS = [
    "/widget/config",
    "/widget/session",
    "/widget/messages",
    "/widget/events",
    "/widget/read",
    "/widget/profile",
    "/widget/csat",
    "/widget/transcript",
    "/widget/attachments",
]


class SessionBody(msgspec.Struct):
    inbox: str
    token: str | None = None
    identity: IdentityClaim | None = None
    resume: str | None = msgspec.field(default=None, name="continue")  # a redirect link's


def cors_headers(origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": "Retry-After, X-Request-ID",
        "Vary": "Origin",
    }


class _Call:
    """One REST call: its origin, its client, and what its answer's CORS may say."""

    def __init__(self, request: Req) -> None:
        self.request = request
        self.state = widget_state(request.app)
        self.service: WidgetService = self.state.service
        self.origin: str | None = request.headers.get("origin")
        self.cors: dict[str, str] = {}

    async def start(self) -> None:
        if await self.service.allowed_anywhere(self.origin):
            assert self.origin is not None
            self.cors = cors_headers(self.origin)  # so the widget can read a refusal
        settings = self.service.c.settings
        self.service.limit("frames", client_address(self.request, settings.trusted_proxies))

    def allow(self, allowed: bool) -> None:
        if not allowed:
            self.cors = {}
            raise WidgetError("forbidden", "this page may not use this chat", status=403)

    async def visitor(self) -> Visitor:
        auth = self.request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        v = await self.service.visitor(token.strip() if scheme.lower() == "bearer" else None)
        if v is None:
            raise WidgetError("forbidden", "no chat session; start one", status=401)
        self.allow(self.service.allowed(v.widget, self.origin))
        return v

    async def body(self, kind: type[T]) -> T:
        raw = await self.request.body()
        if len(raw) > MAX_FRAME:
            raise WidgetError("too_large", f"at most {MAX_FRAME} bytes", status=413)
        try:
            return msgspec.json.decode(raw or b"{}", type=kind)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise WidgetError("bad_frame", f"invalid body: {exc}", status=400) from exc

    def answer(
        self, body: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response[Any]:
        return Response(body, status_code=status, headers={**self.cors, **(headers or {})})


async def _run(request: Req, work: Callable[[_Call], Awaitable[Response[Any]]]) -> Response[Any]:
    call = _Call(request)
    try:
        await call.start()
        return await work(call)
    except WidgetError as exc:
        headers = {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, round(exc.retry_after)))
        return call.answer(exc.body(), exc.status, headers)
    except StorageUnavailable:
        return call.answer(
            {"code": "invalid", "message": "storage is unavailable; try again"},
            503,
            {"Retry-After": "5"},
        )


@get("/widget/config", include_in_schema=False)
async def widget_config(request: Req) -> Response[Any]:
    async def work(call: _Call) -> Response[Any]:
        w = await call.service.chat_inbox(request.query_params.get("inbox"))
        if w is None:
            raise WidgetError("invalid", "no such chat", status=404)
        if call.origin is not None:  # a page elsewhere; our own preview sends none on GET
            call.allow(call.service.allowed(w, call.origin))
        return call.answer(w.public, headers={"Cache-Control": "public, max-age=60"})

    return await _run(request, work)


@post("/widget/session", include_in_schema=False, request_max_body_size=READ_LIMIT)
async def widget_session(request: Req) -> Response[Any]:
    async def work(call: _Call) -> Response[Any]:
        body = await call.body(SessionBody)
        w = await call.service.chat_inbox(body.inbox)
        if w is None:
            raise WidgetError("invalid", "no such chat", status=404)
        call.allow(call.service.allowed(w, call.origin))
        client = client_address(request, call.service.c.settings.trusted_proxies)
        _, welcome = await call.service.hello(
            w,
            token=body.token,
            claim=body.identity,
            client=client,
            origin=call.origin,
            resume=body.resume,
        )
        return call.answer(welcome)

    return await _run(request, work)


@post("/widget/messages", include_in_schema=False, request_max_body_size=READ_LIMIT)
async def widget_messages(request: Req) -> Response[Any]:
    async def work(call: _Call) -> Response[Any]:
        v = await call.visitor()
        return call.answer(await call.service.send(v, await call.body(Send)))

    return await _run(request, work)


def _number(raw: str | None, default: int, top: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or len(raw) > 10 or int(raw) > top:
        raise WidgetError("bad_frame", f"expected a whole number up to {top}", status=400)
    return int(raw)


@get("/widget/events", include_in_schema=False)
async def widget_events(request: Req) -> Response[Any]:
    async def work(call: _Call) -> Response[Any]:
        v = await call.visitor()
        since = _number(request.query_params.get("since"), 0, 2**31 - 1)
        limit = max(1, _number(request.query_params.get("limit"), DEFAULT_EVENTS, q.MAX_PAGE))
        events = await call.service.events(v, since, limit)
        await call.service.seen(v)  # a polling widget is an open page too
        state = await call.service.c.db.read_small(lambda c: q.visitor_state(c, v.id))
        seq = max([state.last_seq if state else 0, *(e["seq"] for e in events)])
        return call.answer({"events": events, "seq": seq}, headers={"Cache-Control": "no-store"})

    return await _run(request, work)


def _then_nothing(
    kind: type[T], act: Callable[[WidgetService, Visitor, T], Awaitable[None]]
) -> Callable[[Req], Awaitable[Response[Any]]]:
    async def handler(request: Req) -> Response[Any]:
        async def work(call: _Call) -> Response[Any]:
            v = await call.visitor()
            await act(call.service, v, await call.body(kind))
            return call.answer(None, 204)

        return await _run(request, work)

    return handler


widget_read = post("/widget/read", include_in_schema=False, request_max_body_size=READ_LIMIT)(
    _then_nothing(Read, lambda s, v, b: s.read(v, b.seq))
)
widget_profile = post("/widget/profile", include_in_schema=False, request_max_body_size=READ_LIMIT)(
    _then_nothing(Profile, lambda s, v, b: s.profile(v, b.name, b.email))
)
widget_csat = post("/widget/csat", include_in_schema=False, request_max_body_size=READ_LIMIT)(
    _then_nothing(Csat, lambda s, v, b: s.csat(v, b.score, b.comment))
)
widget_transcript = post(
    "/widget/transcript", include_in_schema=False, request_max_body_size=READ_LIMIT
)(_then_nothing(TranscriptBody, lambda s, v, b: s.transcript(v, b.email)))


@post(
    "/widget/attachments",
    include_in_schema=False,
    request_max_body_size=MAX_UPLOAD + 64 * 1024,  # the file and the multipart framing
)
async def widget_attachments(request: Req) -> Response[Any]:
    async def work(call: _Call) -> Response[Any]:
        v = await call.visitor()
        try:
            form = await request.form()
        except Exception as exc:  # a body that is not multipart: the client's fault
            raise WidgetError(
                "bad_frame", "send the file as multipart field 'file'", status=400
            ) from exc
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise WidgetError("bad_frame", "send the file as multipart field 'file'", status=400)
        try:
            data = await upload.read()
        finally:
            await upload.close()
        found = await call.service.upload(v, upload.filename or "file", upload.content_type, data)
        return call.answer(found, 201)

    return await _run(request, work)


@route(PATHS, http_method=[HttpMethod.OPTIONS], include_in_schema=False)
async def widget_preflight(request: Req) -> Response[Any]:
    """CORS preflight: answered to an origin some chat inbox allows."""
    service = widget_state(request.app).service
    origin = request.headers.get("origin")
    if not await service.allowed_anywhere(origin):
        return Response(None, status_code=403)
    assert origin is not None
    return Response(
        None,
        status_code=204,
        headers={
            **cors_headers(origin),
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Max-Age": "600",
        },
    )


# The preflight first: Litestar gives a path its own OPTIONS handler unless one is
# registered before the path's other methods.
ROUTES = [
    widget_preflight,
    widget_config,
    widget_session,
    widget_messages,
    widget_events,
    widget_read,
    widget_profile,
    widget_csat,
    widget_transcript,
    widget_attachments,
]
