"""The ASGI app: REST API, webhooks, the agent UI, the chat widget and ops endpoints."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response, Router, get
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from threadline.actions.errors import ActionError, Conflict, NotFound
from threadline.bootstrap import Container
from threadline.bus import StorageUnavailable, UnknownInbox
from threadline.core.ratelimit import RateLimit
from threadline.settings import Settings
from threadline.web.api.assignment import ROUTES as ASSIGNMENT_ROUTES
from threadline.web.api.calls import ROUTES as CALL_ROUTES
from threadline.web.api.composer import ROUTES as COMPOSER_ROUTES
from threadline.web.api.conversations import CONVERSATION_ROUTES
from threadline.web.api.customers import ROUTES as CUSTOMER_ROUTES
from threadline.web.api.intake import ROUTES as INTAKE_ROUTES
from threadline.web.api.merges import ROUTES as MERGE_ROUTES
from threadline.web.api.receipts import ROUTES as RECEIPT_ROUTES
from threadline.web.api.rules import ROUTES as RULE_ROUTES
from threadline.web.api.search import ROUTES as SEARCH_ROUTES
from threadline.web.api.sla import ROUTES as SLA_ROUTES
from threadline.web.api.teams import ROUTES as TEAM_ROUTES
from threadline.web.api.triage import TRIAGE_ROUTES
from threadline.web.auth import BearerAuth
from threadline.web.bodies import JSONCheckedRequest
from threadline.web.continuation import ROUTES as CONTINUE_ROUTES
from threadline.web.media import ROUTES as MEDIA_ROUTES
from threadline.web.ratelimit import ClientRateLimit, PathLimit
from threadline.web.request_id import (
    RequestIdMiddleware,
    add_request_id_header,
    internal_error,
)
from threadline.web.sandbox import SANDBOX
from threadline.web.sessions import CSRF_COOKIE, SessionMiddleware, bind_csrf
from threadline.web.simulator import ROUTES as SIMULATOR
from threadline.web.ui import UI_ROUTES, ui_template_config
from threadline.web.ui.errors import add_page_headers, not_found
from threadline.web.ui.hub import Hub
from threadline.web.webhooks import WEBHOOKS
from threadline.web.webhooks.common import storage_unavailable
from threadline.web.widget import WIDGET_ROUTES, WidgetState

__all__ = ["create_app"]

API_GUIDE = """\
Send `Authorization: Bearer <token>` (`threadline token add --user <email>`).

**Paging.** Lists come a page at a time (`limit`). When more rows follow, the
answer has an `X-Next-Cursor` header: pass it back as `?cursor=` for the next
page. Cursors are opaque; each page starts right after the last row of the one
before, so rows are never repeated or skipped.

**Errors.** Every answer carries `X-Request-ID`. A 500 names it in its body
(`request_id`); the server's log has the details under the same id.
"""

HEALTH_WRITE_TIMEOUT = 2.0  # seconds for a trivial write to commit before /healthz says 503


def _error(status: int) -> Any:
    def handler(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
        return Response({"status_code": status, "detail": str(exc)}, status_code=status)

    return handler


@get("/healthz", summary="Liveness and database check", include_in_schema=False)
async def healthz(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
    container: Container = request.app.state.container
    try:
        # read_small: on SQLite a read this size runs on the loop, with no thread hop
        # to wait for while ingest keeps every thread busy.
        await container.db.read_small(lambda c: c.exec_driver_sql("SELECT 1").scalar())
    except Exception as exc:
        return Response({"status": "unavailable", "reason": f"read failed: {exc}"}, status_code=503)
    # Reads alone stayed green while every write hung behind a dead writer.
    problem = await container.db.check_writers(timeout=HEALTH_WRITE_TIMEOUT)
    if problem is not None:
        return Response({"status": "unavailable", "reason": problem}, status_code=503)
    return Response({"status": "ok"})


@get("/metrics", include_in_schema=False, media_type="text/plain")
async def metrics() -> Response[bytes]:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def login_limit(settings: Settings) -> PathLimit:
    return PathLimit(
        "/login",
        RateLimit(settings.login_requests_burst, settings.login_requests_per_minute / 60),
        "Too many sign-in requests from your address.",
    )


def create_app(container: Container, *, manage_lifecycle: bool = True) -> Litestar:
    """The app for one container. ``manage_lifecycle`` starts and stops the
    container with the app (off when the caller, e.g. `threadline serve`, owns it)."""
    api = Router(
        "/api/v1",
        route_handlers=[
            *RECEIPT_ROUTES,
            *CUSTOMER_ROUTES,
            *MERGE_ROUTES,
            *CONVERSATION_ROUTES,
            *SEARCH_ROUTES,
            *CALL_ROUTES,
            *COMPOSER_ROUTES,
            *TEAM_ROUTES,
            *RULE_ROUTES,
            *SLA_ROUTES,
            *TRIAGE_ROUTES,
            *INTAKE_ROUTES,
            *ASSIGNMENT_ROUTES,
        ],
        middleware=[DefineMiddleware(BearerAuth)],
        security=[{"bearer": []}],
    )

    async def startup() -> None:
        await container.start(jobs=container.settings.run_jobs)

    async def shutdown() -> None:
        await container.aclose()

    async def stop_hub(app: Litestar) -> None:
        await app.state.hub.stop()
        await app.state.widget.hub.stop()

    app = Litestar(
        route_handlers=[
            api,
            *WEBHOOKS,
            *MEDIA_ROUTES,
            # Public by design: a redirect link's signed token is its only credential.
            *CONTINUE_ROUTES,
            # Public by design: visitors' session tokens and inboxes' allowed origins.
            *WIDGET_ROUTES,
            # The provider stand-ins, and the simulator that plays customers through
            # them, exist only in demo and sandbox mode.
            *([*SANDBOX, *SIMULATOR] if container.settings.sandbox else []),
            *UI_ROUTES,
            healthz,
            metrics,
        ],
        on_startup=[startup] if manage_lifecycle else [],
        on_shutdown=[stop_hub, *([shutdown] if manage_lifecycle else [])],
        # Litestar's default config runs dictConfig: root at INFO, handlers replaced.
        # threadline.logs owns logging; unhandled errors were only logged in debug.
        logging_config=None,
        exception_handlers={
            NotFoundException: not_found,
            NotFound: not_found,
            UnknownInbox: _error(404),
            Conflict: _error(409),
            ActionError: _error(422),
            500: internal_error,
            StorageUnavailable: storage_unavailable,
        },
        openapi_config=OpenAPIConfig(
            title="Threadline",
            version="1",
            description=API_GUIDE,
            path="/api/v1",
            # /api/v1 (the first plugin) and /api/v1/docs both serve the Swagger UI page
            render_plugins=[SwaggerRenderPlugin(path=["/docs", "/swagger"])],
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}
            ),
        ),
        csrf_config=CSRFConfig(
            secret=container.bus.cfg.secret_key,
            cookie_name=CSRF_COOKIE,
            header_name="x-csrftoken",
            cookie_secure=container.settings.secure_cookies(),
            # token-authenticated and provider-signed endpoints carry no cookies to
            # forge; /media/ links are fetched by providers, who need no cookie; the
            # widget's visitors hold a session token and come from allowed origins
            exclude=["/api/", "/webhooks/", "/sandbox/", "/media/", "^/widget/"],
        ),
        template_config=ui_template_config(),
        # Server-side sessions (web/sessions.py); the CSRF token is bound to one.
        middleware=[RequestIdMiddleware, SessionMiddleware()],
        before_request=bind_csrf,
        request_max_body_size=2 * 1024 * 1024,
        before_send=[add_request_id_header, add_page_headers],
        request_class=JSONCheckedRequest,
    )
    app.state.container = container
    # In front of routing and every middleware (CSRF included): a flood is refused
    # before it costs anything else.
    app.asgi_handler = ClientRateLimit(
        app.asgi_handler,
        limits=[login_limit(container.settings)],
        trusted_proxies=container.settings.trusted_proxies,
        clock=lambda: container.clock.now().timestamp(),
        hold=container.settings.login_refusal_hold_seconds,
    )
    # Started by the first stream that needs it: servers run without lifespan events too.
    app.state.hub = Hub(app, container)
    app.state.widget = WidgetState.build(container)  # its hub starts with the first socket
    return app
