"""Settings: teams, who is in them, and which inboxes they work."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.response import Redirect, Template
from sqlalchemy.engine import Connection

from threadline.actions.errors import ActionError
from threadline.actions.teams import (
    MAX_TEAM_ITEMS,
    create_team,
    set_team_inboxes,
    set_team_members,
)
from threadline.queries.scope import EVERYTHING
from threadline.queries.settings import list_people
from threadline.queries.teams import list_inboxes, list_teams
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

PAGE = "/settings/teams"


def _screen(conn: Connection) -> dict[str, Any]:
    return {
        "teams": list_teams(conn),
        "people": list_people(conn),
        "inboxes": list_inboxes(conn, scope=EVERYTHING),
    }


async def _teams(
    request: Req, agent: Agent, *, error: str | None = None, status_code: int = 200, **extra: Any
) -> Template:
    screen = await container(request).db.read(_screen)
    return await settings_page(
        request,
        agent,
        "ui/settings/teams.html",
        error=error,
        status_code=status_code,
        **screen,
        **extra,
    )


@get(PAGE, include_in_schema=False)
async def teams_page(request: Req) -> Template | Redirect:
    return await admin_view(request, _teams)


@post(PAGE, include_in_schema=False, status_code=200)
async def add_team(request: Req) -> Template | Redirect:
    agent = await require_admin(request)
    name = (await read_form(request)).text("name")
    try:
        team_id = await container(request).bus.execute(
            lambda tx: create_team(tx, name=name, actor=actor(agent))
        )
    except ActionError as exc:
        return await _teams(
            request, agent, error=str(exc), status_code=error_status(exc), typed_name=name
        )
    return done(PAGE, "team_added", f"#team-{team_id}")


@post(f"{PAGE}/{{team_id:int}}", include_in_schema=False, status_code=200)
async def save_team(request: Req, team_id: Id) -> Template | Redirect:
    """Members and inboxes together: the form shows both as checkboxes."""
    agent = await require_admin(request)
    form = await read_form(request)
    who = actor(agent)
    try:
        members = form.ids("user_ids", MAX_TEAM_ITEMS)
        boxes = form.ids("inbox_ids", MAX_TEAM_ITEMS)

        def save(tx: Tx) -> None:
            set_team_members(tx, team_id, members, actor=who)
            set_team_inboxes(tx, team_id, boxes, actor=who)

        await execute(request, save)
    except ActionError as exc:
        return await _teams(request, agent, error=str(exc), status_code=error_status(exc))
    return done(PAGE, "team_saved", f"#team-{team_id}")


ROUTES = [teams_page, add_team, save_team]
