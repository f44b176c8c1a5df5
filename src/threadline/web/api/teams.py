"""Teams and inboxes over the API: admins decide who works which inboxes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import get, post, put
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody

from threadline.actions.teams import (
    MAX_TEAM_ITEMS,
    create_team,
    set_inbox_scope,
    set_team_inboxes,
    set_team_members,
)
from threadline.bootstrap import Container
from threadline.queries.teams import list_inboxes, list_teams, team_detail
from threadline.web.api.common import Req, container_of, scope_of
from threadline.web.api.params import Id
from threadline.web.auth import require_admin
from threadline.web.schemas import to_model

__all__ = [
    "ROUTES",
    "InboxScope",
    "InboxScopeIn",
    "InboxSummary",
    "Team",
    "TeamIn",
    "TeamInboxesIn",
    "TeamMembersIn",
]


Ids = Annotated[list[int], msgspec.Meta(max_length=MAX_TEAM_ITEMS)]


class TeamIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class TeamMembersIn(msgspec.Struct, forbid_unknown_fields=True):
    user_ids: Ids = msgspec.field(default_factory=list)


class TeamInboxesIn(msgspec.Struct, forbid_unknown_fields=True):
    inbox_ids: Ids = msgspec.field(default_factory=list)


class InboxScopeIn(msgspec.Struct, forbid_unknown_fields=True):
    all_inboxes: bool  # false: only the inboxes of the user's teams


class InboxSummary(msgspec.Struct):
    """An inbox as the API shows it: never its config, which holds provider secrets."""

    id: int
    channel: str
    name: str
    address: str


class Team(msgspec.Struct):
    id: int
    name: str
    created_at: datetime
    member_ids: list[int]
    inbox_ids: list[int]


class InboxScope(msgspec.Struct):
    user_id: int
    all_inboxes: bool


async def _team(c: Container, team_id: int) -> Team:
    found = await c.db.read(lambda conn: team_detail(conn, team_id))
    if found is None:
        raise NotFoundException(f"team {team_id} not found")
    return to_model(found, Team)


@get("/inboxes", summary="The inboxes you can see (no provider settings)")
async def get_inboxes(request: Req) -> list[InboxSummary]:
    scope = await scope_of(request)
    rows = await container_of(request).db.read(lambda conn: list_inboxes(conn, scope=scope))
    return to_model(rows, list[InboxSummary])


@get("/teams", summary="Teams with their member and inbox ids")
async def get_teams(request: Req) -> list[Team]:
    return to_model(await container_of(request).db.read(lambda conn: list_teams(conn)), list[Team])


@post("/teams", guards=[require_admin], summary="Create a team")
async def post_team(request: Req, data: JSONBody[TeamIn]) -> Team:
    c = container_of(request)
    actor = f"user:{request.user.id}"
    team_id = await c.bus.execute(lambda tx: create_team(tx, name=data.name, actor=actor))
    return await _team(c, team_id)


@put(
    "/teams/{team_id:int}/members",
    guards=[require_admin],
    summary=f"Set the team's members (at most {MAX_TEAM_ITEMS} user ids)",
)
async def put_team_members(request: Req, team_id: Id, data: JSONBody[TeamMembersIn]) -> Team:
    c = container_of(request)
    actor = f"user:{request.user.id}"
    await c.bus.execute(lambda tx: set_team_members(tx, team_id, data.user_ids, actor=actor))
    return await _team(c, team_id)


@put(
    "/teams/{team_id:int}/inboxes",
    guards=[require_admin],
    summary=f"Set the team's inboxes (at most {MAX_TEAM_ITEMS} inbox ids)",
)
async def put_team_inboxes(request: Req, team_id: Id, data: JSONBody[TeamInboxesIn]) -> Team:
    c = container_of(request)
    actor = f"user:{request.user.id}"
    await c.bus.execute(lambda tx: set_team_inboxes(tx, team_id, data.inbox_ids, actor=actor))
    return await _team(c, team_id)


@put(
    "/users/{user_id:int}/inbox-scope",
    guards=[require_admin],
    summary="Let a user see every inbox, or only their teams' inboxes",
)
async def put_inbox_scope(request: Req, user_id: Id, data: JSONBody[InboxScopeIn]) -> InboxScope:
    actor = f"user:{request.user.id}"
    await container_of(request).bus.execute(
        lambda tx: set_inbox_scope(tx, user_id, all_inboxes=data.all_inboxes, actor=actor)
    )
    return InboxScope(user_id=user_id, all_inboxes=data.all_inboxes)


ROUTES = [get_inboxes, get_teams, post_team, put_team_members, put_team_inboxes, put_inbox_scope]
