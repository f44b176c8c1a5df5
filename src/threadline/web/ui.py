"""The agent UI's first pages: sign in, the inbox, a customer's timeline.

Server-rendered (Jinja2); sessions live in the database (web/sessions.py), so
any web process can serve any request and a logout ends every copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig

from threadline.actions.sessions import end_session
from threadline.bootstrap import Container
from threadline.passwords import Busy
from threadline.queries.conversations import list_conversations
from threadline.queries.customers import customer_detail
from threadline.queries.timeline import customer_timeline
from threadline.web.api.params import Id
from threadline.web.login import Failed, Throttled, client_address, sign_in
from threadline.web.scope import request_scope
from threadline.web.sessions import SESSION_COOKIE, session_cookies

__all__ = ["UI_ROUTES", "ui_template_config"]

Req = Request[Any, Any, State]


def ui_template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=Path(__file__).parent / "templates", engine=JinjaTemplateEngine)


def _container(request: Req) -> Container:
    container: Container = request.app.state.container
    return container


def _agent(request: Req) -> dict[str, Any] | None:
    user = request.session.get("user") if request.session else None
    return user if isinstance(user, dict) else None


@get("/", include_in_schema=False)
async def home(request: Req) -> Redirect:
    return Redirect("/inbox" if _agent(request) else "/login")


@get("/login", include_in_schema=False)
async def login_form(request: Req) -> Template:
    return Template("login.html", context={"error": None})


@post("/login", include_in_schema=False, status_code=200)
async def login(
    request: Req,
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Template | Redirect:
    c = _container(request)
    try:
        outcome = await sign_in(
            c,
            email=str(data.get("email", "")),
            password=str(data.get("password", "")),
            client=client_address(request, c.settings.trusted_proxies),
            previous=request.cookies.get(SESSION_COOKIE),
        )
    except Busy:
        return Template(
            "login.html",
            context={"error": "Too many sign-ins at this moment. Try again in a few seconds."},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    if isinstance(outcome, Throttled):
        minutes = max(1, round(outcome.retry_after / 60))
        wait = (
            f"{outcome.retry_after} seconds" if outcome.retry_after < 90 else f"{minutes} minutes"
        )
        return Template(
            "login.html",
            context={"error": f"Too many failed sign-ins. Try again in {wait}."},
            status_code=429,
            headers={"Retry-After": str(outcome.retry_after)},
        )
    if isinstance(outcome, Failed):
        return Template("login.html", context={"error": "Wrong email or password."})
    return Redirect(
        "/inbox", cookies=session_cookies(c.settings, outcome.session_token, outcome.csrf_token)
    )


@post("/logout", include_in_schema=False, status_code=200)
async def logout(request: Req) -> Redirect:
    c = _container(request)
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await c.bus.execute(lambda tx: end_session(tx, token=token))
    return Redirect("/login", cookies=session_cookies(c.settings, None, None))


@get("/inbox", include_in_schema=False)
async def inbox(request: Req) -> Template | Redirect:
    agent = _agent(request)
    if agent is None:
        return Redirect("/login")
    scope = await request_scope(request, agent["id"], agent["role"])
    rows = await _container(request).db.read(
        lambda c: list_conversations(c, scope=scope, limit=100)
    )
    return Template("inbox.html", context={"agent": agent, "conversations": rows})


@get("/customers/{customer_id:int}", include_in_schema=False)
async def customer_page(request: Req, customer_id: Id) -> Template | Redirect:
    agent = _agent(request)
    if agent is None:
        return Redirect("/login")
    db = _container(request).db
    scope = await request_scope(request, agent["id"], agent["role"])
    customer = await db.read(lambda c: customer_detail(c, customer_id, scope=scope))
    if customer is None:
        raise NotFoundException("customer not found")
    timeline = await db.read(lambda c: customer_timeline(c, customer_id, scope=scope, limit=200))
    return Template(
        "customer.html",
        context={"agent": agent, "customer": customer, "timeline": list(reversed(timeline))},
    )


UI_ROUTES = [home, login_form, login, logout, inbox, customer_page]
