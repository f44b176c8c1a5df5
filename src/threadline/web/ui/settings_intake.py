"""Settings: the intake checklist (docs/intake.md), edited as JSON like the triage
lexicon. A save is checked by parse_checklist and holds on the next read of a
conversation; "Restore the default" goes back to the checklist the package ships."""

from __future__ import annotations

import json
from typing import Any

from litestar import get, post
from litestar.response import Redirect, Template

from threadline.actions.errors import ActionError
from threadline.actions.intake import intake_version, save_intake
from threadline.core.intake import (
    DEFAULT_CHECKLIST,
    LANGUAGES,
    MAX_FACTS,
    MAX_PATTERN_LENGTH,
    MAX_PATTERNS,
    MAX_TOTAL_FACTS,
)
from threadline.storage.tables import users
from threadline.web.ui.common import Agent, Req, container
from threadline.web.ui.settings_common import (
    admin_view,
    done,
    error_status,
    read_form,
    require_admin,
    settings_page,
)

__all__ = ["ROUTES"]

PAGE = "/settings/intake"
# The largest checklist parse_checklist takes is about 30 facts of 8 patterns of 400
# characters (≈ 100 KB); as pretty JSON with its texts, with room to spare.
MAX_JSON = 192 * 1024


async def _page(
    request: Req, agent: Agent, *, error: str | None = None, typed: str | None = None
) -> Template:
    c = container(request)

    def read(conn: Any) -> dict[str, Any] | None:
        stored = intake_version(conn)
        if stored is not None and stored["created_by_id"] is not None:
            stored["by"] = conn.execute(
                users.select()
                .with_only_columns(users.c.name)
                .where(users.c.id == stored["created_by_id"])
            ).scalar()
        return stored

    stored = await c.db.read(read)
    data = stored["data"] if stored else DEFAULT_CHECKLIST.as_mapping()
    return await settings_page(
        request,
        agent,
        "ui/settings/intake.html",
        error=error,
        status_code=422 if error else 200,
        stored=stored,
        text=typed if typed is not None else json.dumps(data, indent=1, ensure_ascii=False),
        max_json=MAX_JSON,
        max_facts=MAX_FACTS,
        max_total_facts=MAX_TOTAL_FACTS,
        max_patterns=MAX_PATTERNS,
        max_pattern_length=MAX_PATTERN_LENGTH,
        languages=LANGUAGES,
    )


@get(PAGE, include_in_schema=False)
async def intake_page(request: Req) -> Template | Redirect:
    return await admin_view(request, _page)


@post(PAGE, include_in_schema=False, status_code=200, request_max_body_size=2 * MAX_JSON)
async def save_intake_form(request: Req) -> Template | Redirect:
    agent = await require_admin(request)
    form = await read_form(request)
    typed = form.raw("checklist", MAX_JSON)
    try:
        raw: Any = None  # restore: the package's checklist
        if not form.flag("restore"):
            if len(typed) > MAX_JSON:
                raise ActionError(f"the checklist is at most {MAX_JSON:,} characters of JSON")
            try:
                raw = json.loads(typed)
            except ValueError as exc:
                raise ActionError(f"not JSON: {exc}") from None
            if raw is None:
                raise ActionError("a checklist is an object: category -> its facts and template")
        await container(request).bus.execute(lambda tx: save_intake(tx, raw, actor_id=agent.id))
    except ActionError as exc:
        page = await _page(request, agent, error=str(exc), typed=typed[:MAX_JSON])
        page.status_code = error_status(exc)
        return page
    return done(PAGE, "intake_saved")


ROUTES = [intake_page, save_intake_form]
