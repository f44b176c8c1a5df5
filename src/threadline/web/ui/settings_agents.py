"""Settings: agents, their roles, and which inboxes they may see."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.response import Redirect, Template

from threadline.actions.errors import ActionError
from threadline.actions.teams import set_inbox_scope
from threadline.actions.users import (
    MAX_PASSWORD,
    MIN_PASSWORD,
    ROLES,
    add_user,
    check_new_user,
    deactivate_user,
    reactivate_user,
    set_role,
    user_email,
)
from threadline.passwords import Busy
from threadline.queries.settings import list_people
from threadline.storage.db import Tx
from threadline.web.api.params import Id
from threadline.web.ui.common import Agent, Req, container
from threadline.web.ui.settings_common import (
    actor,
    admin_view,
    done,
    error_status,
    execute,
    read_form,
    require_admin,
    settings_page,
)

__all__ = ["ROUTES"]

PAGE = "/settings/agents"


async def _agents(
    request: Req, agent: Agent, *, error: str | None = None, status_code: int = 200, **extra: Any
) -> Template:
    people = await container(request).db.read(list_people)
    return await settings_page(
        request,
        agent,
        "ui/settings/agents.html",
        error=error,
        status_code=status_code,
        people=people,
        roles=ROLES,
        min_password=MIN_PASSWORD,
        **extra,
    )


@get(PAGE, include_in_schema=False)
async def agents_page(request: Req) -> Template | Redirect:
    return await admin_view(request, _agents)


@post(PAGE, include_in_schema=False, status_code=200)
async def add_agent(request: Req) -> Template | Redirect:
    agent = await require_admin(request)
    c = container(request)
    form = await read_form(request)
    typed = {"name": form.text("name"), "email": form.text("email", 320), "role": form.text("role")}
    password = form.raw("password", MAX_PASSWORD)
    try:
        email, name = check_new_user(
            email=typed["email"], name=typed["name"], role=typed["role"], password=password
        )
        # argon2, on its bounded pool off the event loop (passwords.py)
        hashed = await c.passwords.hash(password)
        await c.bus.execute(
            lambda tx: add_user(
                tx,
                email=email,
                name=name,
                role=typed["role"],
                password_hash=hashed,
                actor=actor(agent),
            )
        )
    except Busy:
        return await _agents(
            request,
            agent,
            error="The server is busy hashing passwords; try again.",
            status_code=503,
            typed=typed,
        )
    except ActionError as exc:
        return await _agents(
            request, agent, error=str(exc), status_code=error_status(exc), typed=typed
        )
    return done(PAGE, "agent_added")


async def _change(request: Req, user_id: int, change: str) -> Template | Redirect:
    """One change to one user, by an admin who may not lock themselves out."""
    agent = await require_admin(request)
    form = await read_form(request)
    who = actor(agent)
    role = form.text("role")
    all_inboxes = form.flag("all_inboxes")

    def apply(tx: Tx) -> None:
        email = user_email(tx, user_id)
        if change == "role":
            set_role(tx, email=email, role=role, actor=who)
        elif change == "deactivate":
            deactivate_user(tx, email=email, actor=who)
        elif change == "reactivate":
            reactivate_user(tx, email=email, actor=who)
        else:
            set_inbox_scope(tx, user_id, all_inboxes=all_inboxes, actor=who)

    try:
        if user_id == agent.id and (
            change == "deactivate" or (change == "role" and role != "admin")
        ):
            raise ActionError(
                "You cannot take away your own admin access here; ask another admin, "
                "or use the CLI."
            )
        await execute(request, apply)
    except ActionError as exc:
        return await _agents(request, agent, error=str(exc), status_code=error_status(exc))
    keys = {"role": "role_changed", "deactivate": "deactivated", "reactivate": "reactivated"}
    return done(PAGE, keys.get(change, "scope_changed"), f"#user-{user_id}")


@post(f"{PAGE}/{{user_id:int}}/role", include_in_schema=False, status_code=200)
async def change_role(request: Req, user_id: Id) -> Template | Redirect:
    return await _change(request, user_id, "role")


@post(f"{PAGE}/{{user_id:int}}/deactivate", include_in_schema=False, status_code=200)
async def deactivate(request: Req, user_id: Id) -> Template | Redirect:
    return await _change(request, user_id, "deactivate")


@post(f"{PAGE}/{{user_id:int}}/reactivate", include_in_schema=False, status_code=200)
async def reactivate(request: Req, user_id: Id) -> Template | Redirect:
    return await _change(request, user_id, "reactivate")


@post(f"{PAGE}/{{user_id:int}}/scope", include_in_schema=False, status_code=200)
async def change_scope(request: Req, user_id: Id) -> Template | Redirect:
    return await _change(request, user_id, "scope")


ROUTES = [agents_page, add_agent, change_role, deactivate, reactivate, change_scope]
