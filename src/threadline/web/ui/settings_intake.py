"""Settings: the intake checklist (docs/intake.md), edited as JSON like the triage
lexicon. A save is checked by parse_checklist and holds on the next read of a
conversation; "Restore the default" goes back to the checklist the package ships."""

from __future__ import annotations

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
from threadline.web.ui.common import Req, container
from threadline.web.ui.settings_common import admin_view, done, read_form, require_admin
from threadline.web.ui.settings_json import JsonDocument, document_page, parse_document, refused

__all__ = ["ROUTES"]

PAGE = "/settings/intake"
# The largest checklist parse_checklist takes is about 30 facts of 8 patterns of 400
# characters (≈ 100 KB); as pretty JSON with its texts, with room to spare.
MAX_JSON = 192 * 1024


CHECKLIST = JsonDocument(
    template="ui/settings/intake.html",
    noun="checklist",
    max_json=MAX_JSON,
    version=intake_version,
    default=DEFAULT_CHECKLIST.as_mapping,
    limits={
        "max_facts": MAX_FACTS,
        "max_total_facts": MAX_TOTAL_FACTS,
        "max_patterns": MAX_PATTERNS,
        "max_pattern_length": MAX_PATTERN_LENGTH,
        "languages": LANGUAGES,
    },
)


@get(PAGE, include_in_schema=False)
async def intake_page(request: Req) -> Template | Redirect:
    return await admin_view(request, document_page, CHECKLIST)


@post(PAGE, include_in_schema=False, status_code=200, request_max_body_size=2 * MAX_JSON)
async def save_intake_form(request: Req) -> Template | Redirect:
    agent = await require_admin(request)
    form = await read_form(request)
    typed = form.raw("checklist", MAX_JSON)
    try:
        raw: Any = None  # restore: the package's checklist
        if not form.flag("restore"):
            raw = parse_document(CHECKLIST, typed)
            if raw is None:
                raise ActionError("a checklist is an object: category -> its facts and template")
        await container(request).bus.execute(lambda tx: save_intake(tx, raw, actor_id=agent.id))
    except ActionError as exc:
        return await refused(request, agent, CHECKLIST, exc, typed)
    return done(PAGE, "intake_saved")


ROUTES = [intake_page, save_intake_form]
