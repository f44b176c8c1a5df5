"""The intake checklist over the API: everyone signed in reads it, admins replace it."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get, put
from litestar.params import JSONBody
from sqlalchemy.engine import Connection

from threadline.actions.intake import intake_version, save_intake
from threadline.web.api.common import Req, container_of
from threadline.web.auth import require_admin
from threadline.web.schemas import IntakeChecklist, IntakeIn, to_model

__all__ = ["ROUTES"]


def _checklist(conn: Connection, request: Req) -> dict[str, Any]:
    cfg = container_of(request).bus.cfg
    stored = intake_version(conn)
    return {
        "categories": cfg.intakes.current(conn, cfg.intake).as_mapping(),
        "stored": stored is not None,
        "saved_at": stored["created_at"] if stored else None,
        "saved_by_id": stored["created_by_id"] if stored else None,
    }


@get(
    "/intake",
    summary="The intake checklist: the facts each category needs, and how to ask for them",
)
async def get_intake(request: Req) -> IntakeChecklist:
    row = await container_of(request).db.read(lambda conn: _checklist(conn, request))
    return to_model(row, IntakeChecklist)


@put(
    "/intake",
    guards=[require_admin],
    request_max_body_size=256 * 1024,
    summary="Replace the intake checklist (it holds on the next read)",
    description=(
        "Checked as a whole: an unknown category, a pattern that does not compile or "
        "may backtrack without end, too many facts or patterns, or a template without "
        "`{missing}` answers 422 with what is wrong, and nothing changes."
    ),
)
async def put_intake(request: Req, data: JSONBody[IntakeIn]) -> IntakeChecklist:
    c = container_of(request)
    raw = msgspec.to_builtins(data)["categories"]
    actor = request.user.id
    await c.bus.execute(lambda tx: save_intake(tx, raw, actor_id=actor))
    return to_model(await c.db.read(lambda conn: _checklist(conn, request)), IntakeChecklist)


ROUTES = [get_intake, put_intake]
