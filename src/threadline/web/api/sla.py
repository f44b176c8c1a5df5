"""SLA policies, inbox calendars and off-hours replies over the API: everyone reads,
admins edit."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import get, put
from litestar.exceptions import NotFoundException
from litestar.params import JSONBody, PathParameter

from threadline.actions.off_hours import set_off_hours_reply
from threadline.actions.sla_policies import set_inbox_calendar, set_policy
from threadline.core.hours import MAX_HOLIDAYS, MAX_SPANS
from threadline.core.off_hours import MAX_TEXT, MAX_URL
from threadline.core.sla import MAX_TARGET
from threadline.queries.sla_policies import inbox_calendar, inbox_off_hours, list_policies
from threadline.web.api.common import Req, container_of, scope_of
from threadline.web.api.params import Id
from threadline.web.auth import require_admin
from threadline.web.schemas import to_model

__all__ = ["ROUTES", "Calendar", "CalendarIn", "OffHoursReply", "SlaPolicy", "SlaPolicyIn"]

Name = Annotated[str, msgspec.Meta(max_length=32)]
PathName = Annotated[str, PathParameter(max_length=32)]
Clock = Annotated[str, msgspec.Meta(pattern=r"^\d{1,2}:\d{2}$")]
Spans = Annotated[
    list[Annotated[list[Clock], msgspec.Meta(min_length=2, max_length=2)]],
    msgspec.Meta(max_length=MAX_SPANS),
]


class SlaPolicy(msgspec.Struct):
    channel: str
    priority: str
    kind: str  # first_response | next_response | resolution | callback
    seconds: int
    business: bool  # counted in the inbox's open hours, or on the wall clock
    warn_percent: int  # the warning comes when this share of the target has elapsed
    updated_at: datetime | None  # None: the default, never edited


class SlaPolicyIn(msgspec.Struct, forbid_unknown_fields=True):
    seconds: Annotated[int, msgspec.Meta(ge=1, le=int(MAX_TARGET.total_seconds()))]
    business: bool = True
    warn_percent: Annotated[int, msgspec.Meta(ge=1, le=100)] = 80


class Calendar(msgspec.Struct):
    """An inbox's business calendar; ``days`` None (or no calendar): always open."""

    timezone: str = "UTC"
    days: dict[str, Spans] | None = None
    holidays: list[str] = msgspec.field(default_factory=list)
    country: str | None = None  # public holidays of this country (ISO code, e.g. DE)
    subdivision: str | None = None  # …and region (e.g. BY)


class CalendarIn(msgspec.Struct, forbid_unknown_fields=True):
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] = "UTC"
    days: Annotated[dict[Name, Spans], msgspec.Meta(max_length=7)] | None = None
    holidays: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=10)]], msgspec.Meta(max_length=MAX_HOLIDAYS)
    ] = msgspec.field(default_factory=list)
    country: Annotated[str, msgspec.Meta(max_length=8)] | None = None
    subdivision: Annotated[str, msgspec.Meta(max_length=32)] | None = None


@get("/sla-policies", summary="Response and resolution targets per channel and priority")
async def get_sla_policies(request: Req) -> list[SlaPolicy]:
    rows = await container_of(request).db.read(list_policies)
    return to_model(rows, list[SlaPolicy])


@put(
    "/sla-policies/{channel:str}/{priority:str}/{kind:str}",
    guards=[require_admin],
    summary="Set one target (new conversations and waits use it from now on)",
)
async def put_sla_policy(
    request: Req, channel: PathName, priority: PathName, kind: PathName, data: JSONBody[SlaPolicyIn]
) -> SlaPolicy:
    c = container_of(request)
    await c.bus.execute(
        lambda tx: set_policy(
            tx,
            channel=channel,
            priority=priority,
            kind=kind,
            seconds=data.seconds,
            business=data.business,
            warn_percent=data.warn_percent,
            actor_id=request.user.id,
        )
    )
    rows = await c.db.read(list_policies)
    found = next(
        r for r in rows if (r["channel"], r["priority"], r["kind"]) == (channel, priority, kind)
    )
    return to_model(found, SlaPolicy)


@get("/inboxes/{inbox_id:int}/calendar", summary="The inbox's business calendar")
async def get_inbox_calendar(request: Req, inbox_id: Id) -> Calendar:
    scope = await scope_of(request)
    found = None
    if scope.allows_inbox(inbox_id):
        found = await container_of(request).db.read(lambda conn: inbox_calendar(conn, inbox_id))
    if found is None:
        raise NotFoundException(f"inbox {inbox_id} not found")
    return to_model(found, Calendar)


@put(
    "/inboxes/{inbox_id:int}/calendar",
    guards=[require_admin],
    summary="Set the inbox's business calendar (hours, holidays, country and region)",
)
async def put_inbox_calendar(request: Req, inbox_id: Id, data: JSONBody[CalendarIn]) -> Calendar:
    c = container_of(request)
    hours: dict[str, Any] = {
        k: v for k, v in msgspec.structs.asdict(data).items() if v is not None and v != []
    }
    actor = f"user:{request.user.id}"
    await c.bus.execute(lambda tx: set_inbox_calendar(tx, inbox_id, hours, actor=actor))
    await c.bus.reload_inboxes()  # is_open and the widget read the cached inboxes
    return to_model(await c.db.read(lambda conn: inbox_calendar(conn, inbox_id)), Calendar)


class OffHoursReply(msgspec.Struct, forbid_unknown_fields=True):
    """What a customer who writes while the inbox is closed gets back (docs/off-hours.md),
    and whether the public contact page lists the inbox."""

    enabled: bool = False
    help_url: Annotated[str, msgspec.Meta(max_length=MAX_URL)] | None = None  # self-help
    text: Annotated[str, msgspec.Meta(max_length=MAX_TEXT)] | None = None  # None: the default
    contact_page: bool = True


async def _off_hours(request: Req, inbox_id: int) -> OffHoursReply:
    found = None
    if (await scope_of(request)).allows_inbox(inbox_id):
        found = await container_of(request).db.read(lambda conn: inbox_off_hours(conn, inbox_id))
    if found is None:
        raise NotFoundException(f"inbox {inbox_id} not found")
    reply, listed = found
    return OffHoursReply(reply.enabled, reply.help_url, reply.text, listed)


@get("/inboxes/{inbox_id:int}/off-hours-reply", summary="The inbox's off-hours reply")
async def get_off_hours_reply(request: Req, inbox_id: Id) -> OffHoursReply:
    return await _off_hours(request, inbox_id)


@put(
    "/inboxes/{inbox_id:int}/off-hours-reply",
    guards=[require_admin],
    summary="Set the inbox's off-hours reply (on or off, self-help link, text) and its "
    "place on the contact page",
)
async def put_off_hours_reply(
    request: Req, inbox_id: Id, data: JSONBody[OffHoursReply]
) -> OffHoursReply:
    c = container_of(request)
    raw = {"enabled": data.enabled, "help_url": data.help_url, "text": data.text}
    actor = f"user:{request.user.id}"
    await c.bus.execute(
        lambda tx: set_off_hours_reply(
            tx, inbox_id, raw, contact_page=data.contact_page, actor=actor
        )
    )
    await c.bus.reload_inboxes()  # the contact page and the ingest path read the cache
    return await _off_hours(request, inbox_id)


ROUTES = [
    get_sla_policies,
    put_sla_policy,
    get_inbox_calendar,
    put_inbox_calendar,
    get_off_hours_reply,
    put_off_hours_reply,
]
