"""What every workspace view needs: the signed-in agent, their scope, the page frame.

Pages answer a signed-out browser with a redirect to /login; fragments and
actions (htmx, the stream) answer 401, which the page turns into a reload.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from litestar import Request
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.response import Redirect, Template
from sqlalchemy.engine import Connection

from threadline.bootstrap import Container
from threadline.queries.names import names
from threadline.queries.scope import Scope
from threadline.storage.tables import team_members, teams
from threadline.web.scope import request_scope

__all__ = [
    "Agent",
    "Req",
    "agent_or_none",
    "container",
    "is_htmx",
    "page",
    "require_signed_in",
    "require_writer",
    "signed_in",
]

Req = Request[Any, Any, State]


@dataclass(frozen=True, slots=True)
class Agent:
    id: int
    email: str
    name: str
    role: str
    scope: Scope

    @property
    def can_write(self) -> bool:
        return self.role in ("admin", "agent")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def container(request: Req) -> Container:
    c: Container = request.app.state.container
    return c


def is_htmx(request: Req) -> bool:
    return request.headers.get("hx-request") == "true"


def agent_or_none(request: Req) -> dict[str, Any] | None:
    user = request.session.get("user") if request.session else None
    return user if isinstance(user, dict) else None


async def signed_in(request: Req) -> Agent | None:
    user = agent_or_none(request)
    if user is None:
        return None
    scope = await request_scope(request, user["id"], user["role"])
    return Agent(user["id"], user["email"], user["name"], user["role"], scope)


async def require_signed_in(request: Req) -> Agent:
    """For fragments and actions: 401 rather than a login page inside a fragment."""
    agent = await signed_in(request)
    if agent is None:
        raise NotAuthorizedException("sign in first")
    return agent


async def require_writer(request: Req) -> Agent:
    agent = await require_signed_in(request)
    if not agent.can_write:
        raise PermissionDeniedException("viewers cannot change anything")
    return agent


def _frame(conn: Connection, agent_id: int) -> dict[str, Any]:
    people, team_names = names(conn)
    my_teams = [
        dict(r._mapping)
        for r in conn.execute(
            sa.select(teams.c.id, teams.c.name)
            .join(team_members, team_members.c.team_id == teams.c.id)
            .where(team_members.c.user_id == agent_id)
            .order_by(teams.c.name)
        )
    ]
    return {"people": people, "my_teams": my_teams, "team_names": team_names}


async def page(
    request: Req,
    agent: Agent,
    template: str,
    *,
    stream: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """A full page in the workspace frame: navigation, search box, shortcuts, stream."""
    c = container(request)
    frame = await c.db.read(lambda conn: _frame(conn, agent.id))
    states = await c.presence.states(frame["people"])
    return Template(
        template,
        context={
            **frame,
            "agent": agent,
            "demo": c.settings.sandbox,
            "stream": stream,
            "presence": json.dumps({str(k): v for k, v in states.items()}),
            "path": request.url.path,
            **context,
        },
        status_code=status_code,
    )


def to_login(request: Req) -> Redirect:
    target = request.url.path
    return Redirect(f"/login?next={target}" if target.startswith("/") else "/login")
