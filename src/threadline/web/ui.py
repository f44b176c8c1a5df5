"""The agent UI's first pages: sign in, the inbox, a customer's timeline.

Server-rendered (Jinja2); sessions live in a signed cookie so any web process
can serve any request.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from litestar import Request, get, post
from litestar.datastructures import State
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig

from threadline.bootstrap import Container
from threadline.queries.conversations import list_conversations
from threadline.queries.customers import customer_detail
from threadline.queries.timeline import customer_timeline
from threadline.storage.tables import users
from threadline.web.api.params import Id
from threadline.web.scope import request_scope

__all__ = ["UI_ROUTES", "session_secret", "ui_template_config"]

_HASHER = PasswordHasher()
Req = Request[Any, Any, State]


def session_secret(secret_key: str) -> bytes:
    return hashlib.sha256(b"session:" + secret_key.encode()).digest()


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
    email = data.get("email", "").strip().lower()
    password = data.get("password", "")
    row = await _container(request).db.read(
        lambda c: c.execute(sa.select(users).where(users.c.email == email)).first()
    )
    ok = False
    if row is not None and row.password_hash:
        try:
            ok = await anyio.to_thread.run_sync(_HASHER.verify, row.password_hash, password)
        except (VerifyMismatchError, InvalidHashError):
            ok = False
    if not ok or row is None:
        return Template("login.html", context={"error": "Wrong email or password."})
    request.set_session({"user": {"id": row.id, "name": row.name, "role": row.role}})
    return Redirect("/inbox")


@post("/logout", include_in_schema=False, status_code=200)
async def logout(request: Req) -> Redirect:
    request.clear_session()
    return Redirect("/login")


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
