"""Settings: API tokens. Listed without their secret; a new one is shown once,
on the answer to the form that issued it, and never again."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.response import Redirect, Template

from threadline.actions.errors import ActionError, NotFound
from threadline.actions.users import issue_token, revoke_token, user_email
from threadline.queries.settings import list_people, list_tokens
from threadline.storage.db import Tx
from threadline.web.api.params import Id
from threadline.web.ui.common import Agent, Req, container
from threadline.web.ui.settings_common import (
    actor,
    admin_view,
    done,
    error_status,
    read_form,
    require_admin,
    settings_page,
)

__all__ = ["ROUTES"]

PAGE = "/settings/tokens"


async def _tokens(
    request: Req, agent: Agent, *, error: str | None = None, status_code: int = 200, **extra: Any
) -> Template:
    db = container(request).db
    tokens = await db.read(list_tokens)
    people = [p for p in await db.read(list_people) if p["deactivated_at"] is None]
    return await settings_page(
        request,
        agent,
        "ui/settings/tokens.html",
        error=error,
        status_code=status_code,
        tokens=tokens,
        people=people,
        **extra,
    )


@get(PAGE, include_in_schema=False)
async def tokens_page(request: Req) -> Template | Redirect:
    return await admin_view(request, _tokens)


@post(PAGE, include_in_schema=False, status_code=201)
async def issue(request: Req) -> Template:
    agent = await require_admin(request)
    form = await read_form(request)
    name = form.text("name") or "settings"
    owner = form.ids("user_id", 1)
    who = actor(agent)

    def make(tx: Tx) -> str:
        if not owner:
            raise ActionError("pick whose token it is")
        if len(name) > 200:
            raise ActionError("a token's name has at most 200 characters")
        return issue_token(tx, email=user_email(tx, owner[0]), name=name, actor=who)

    try:
        token = await container(request).bus.execute(make)
    except NotFound as exc:
        return await _tokens(request, agent, error=str(exc), status_code=422)
    except ActionError as exc:
        return await _tokens(request, agent, error=str(exc), status_code=error_status(exc))
    page = await _tokens(request, agent, status_code=201, issued=token, issued_name=name)
    # Shown once: no cache, no back-button copy, keeps it.
    page.headers["Cache-Control"] = "no-store"
    return page


@post(f"{PAGE}/{{token_id:int}}/revoke", include_in_schema=False, status_code=200)
async def revoke(request: Req, token_id: Id) -> Redirect:
    agent = await require_admin(request)
    who = actor(agent)
    await container(request).bus.execute(lambda tx: revoke_token(tx, token_id=token_id, actor=who))
    return done(PAGE, "token_revoked", f"#token-{token_id}")


ROUTES = [tokens_page, issue, revoke]
