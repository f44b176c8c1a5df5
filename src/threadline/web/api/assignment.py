"""Assignment settings over the API: admins set each agent's capacity, skills and
shifts, and each inbox's strategy, level-2 team and email batch times."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
import sqlalchemy as sa
from litestar import get, put
from litestar.params import JSONBody

from threadline.actions.assignment_settings import (
    MAX_SKILLS,
    set_agent_assignment,
    set_inbox_assignment,
)
from threadline.core.shifts import MAX_BATCH_TIMES, MAX_SPANS
from threadline.queries.assignment import agent_settings, inbox_settings_view
from threadline.storage.tables import inboxes, users
from threadline.web.api.common import Req, container_of, found_or_404
from threadline.web.api.params import Id
from threadline.web.auth import require_admin
from threadline.web.schemas import ChannelName, to_model

__all__ = [
    "ROUTES",
    "AgentAssignment",
    "AgentAssignmentIn",
    "InboxAssignment",
    "InboxAssignmentIn",
    "ScheduleIn",
    "ShiftSpanIn",
]

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Clock = Annotated[str, msgspec.Meta(min_length=4, max_length=5, examples=["09:00"])]
Skill = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Skills = Annotated[list[Skill], msgspec.Meta(max_length=MAX_SKILLS)]
Zone = Annotated[str, msgspec.Meta(min_length=1, max_length=64, examples=["Europe/Berlin"])]
Strategy = Literal["manual", "round_robin", "load_balanced"]


class ShiftSpanIn(msgspec.Struct, forbid_unknown_fields=True):
    """Wall-clock times; an end not after the start runs past midnight."""

    days: Annotated[list[Day], msgspec.Meta(min_length=1, max_length=7)]
    start: Clock
    end: Clock
    channels: Annotated[list[ChannelName], msgspec.Meta(min_length=1, max_length=9)]


class ScheduleIn(msgspec.Struct, forbid_unknown_fields=True):
    timezone: Zone = "UTC"
    spans: Annotated[list[ShiftSpanIn], msgspec.Meta(max_length=MAX_SPANS)] = msgspec.field(
        default_factory=list
    )


class AgentAssignmentIn(msgspec.Struct, forbid_unknown_fields=True):
    """Open conversations per channel (the defaults for channels left out), skills,
    and shifts (null: always on shift)."""

    capacity: Annotated[dict[ChannelName, int], msgspec.Meta(max_length=9)] = msgspec.field(
        default_factory=dict
    )
    skills: Skills = msgspec.field(default_factory=list)
    shifts: ScheduleIn | None = None


class AgentAssignment(msgspec.Struct):
    user_id: int
    capacity: dict[str, int]
    skills: list[str]
    shifts: ScheduleIn | None


class InboxAssignmentIn(msgspec.Struct, forbid_unknown_fields=True):
    """Batch times (email inboxes only) make email due for assignment at those times."""

    strategy: Strategy
    sticky: bool = True
    skills: Skills = msgspec.field(default_factory=list)
    level2_team_id: Annotated[int, msgspec.Meta(ge=1)] | None = None
    batch_times: Annotated[list[Clock], msgspec.Meta(max_length=MAX_BATCH_TIMES)] = msgspec.field(
        default_factory=list
    )
    batch_timezone: Zone = "UTC"


class InboxAssignment(msgspec.Struct):
    inbox_id: int
    strategy: str
    sticky: bool
    skills: list[str]
    level2_team_id: int | None
    batch_times: list[str]
    batch_timezone: str


async def _exists(request: Req, table: sa.Table, row_id: int, what: str) -> None:
    found = await container_of(request).db.read(
        lambda conn: conn.execute(sa.select(table.c.id).where(table.c.id == row_id)).first()
    )
    found_or_404(found, what)


async def _inbox(request: Req, inbox_id: int) -> InboxAssignment:
    await _exists(request, inboxes, inbox_id, "inbox")
    found = await container_of(request).db.read(lambda c: inbox_settings_view(c, [inbox_id]))
    return to_model(found[inbox_id], InboxAssignment)


async def _agent(request: Req, user_id: int) -> AgentAssignment:
    await _exists(request, users, user_id, "user")
    found = await container_of(request).db.read(lambda c: agent_settings(c, [user_id]))
    return to_model(found[user_id], AgentAssignment)


@get("/inboxes/{inbox_id:int}/assignment", guards=[require_admin], summary="How the inbox assigns")
async def get_inbox_assignment(request: Req, inbox_id: Id) -> InboxAssignment:
    return await _inbox(request, inbox_id)


@put(
    "/inboxes/{inbox_id:int}/assignment",
    guards=[require_admin],
    summary="Set how the inbox assigns: strategy, sticky, skills, level-2 team, email batches",
)
async def put_inbox_assignment(
    request: Req, inbox_id: Id, data: JSONBody[InboxAssignmentIn]
) -> InboxAssignment:
    actor = f"user:{request.user.id}"
    await container_of(request).bus.execute(
        lambda tx: set_inbox_assignment(
            tx,
            inbox_id,
            strategy=data.strategy,
            sticky=data.sticky,
            skills=data.skills,
            level2_team_id=data.level2_team_id,
            batch_times=data.batch_times,
            batch_timezone=data.batch_timezone,
            actor=actor,
        )
    )
    return await _inbox(request, inbox_id)


@get(
    "/agents/{user_id:int}/assignment",
    guards=[require_admin],
    summary="What the agent takes: capacity per channel, skills, shifts",
)
async def get_agent_assignment(request: Req, user_id: Id) -> AgentAssignment:
    return await _agent(request, user_id)


@put(
    "/agents/{user_id:int}/assignment",
    guards=[require_admin],
    summary="Set what the agent takes: capacity per channel, skills, shifts",
)
async def put_agent_assignment(
    request: Req, user_id: Id, data: JSONBody[AgentAssignmentIn]
) -> AgentAssignment:
    actor = f"user:{request.user.id}"
    shifts = msgspec.to_builtins(data.shifts) if data.shifts is not None else None
    await container_of(request).bus.execute(
        lambda tx: set_agent_assignment(
            tx,
            user_id,
            capacity=dict(data.capacity),
            skills=data.skills,
            shifts=shifts,
            actor=actor,
        )
    )
    return await _agent(request, user_id)


ROUTES = [get_inbox_assignment, put_inbox_assignment, get_agent_assignment, put_agent_assignment]
