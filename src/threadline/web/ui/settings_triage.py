"""Settings: the triage lexicon (docs/triage.md), edited as JSON. A save is checked by
parse_lexicon and holds on the next message; "Restore the default" stores the lexicon
the package ships as the newest version."""

from __future__ import annotations

import json
from typing import Any

from litestar import get, post
from litestar.response import Redirect, Template

from threadline.actions.errors import ActionError
from threadline.actions.lexicon import lexicon_version, save_lexicon
from threadline.core.lexicon import MAX_TERM_LENGTH, MAX_TERMS
from threadline.core.triage import DEFAULT_LEXICON
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

PAGE = "/settings/triage"
# The largest lexicon parse_lexicon takes, as pretty JSON, with room to spare.
MAX_JSON = MAX_TERMS * (MAX_TERM_LENGTH + 12) + 4096


def _pretty(data: Any) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False)


async def _page(
    request: Req, agent: Agent, *, error: str | None = None, typed: str | None = None
) -> Template:
    c = container(request)

    def read(conn: Any) -> dict[str, Any] | None:
        stored = lexicon_version(conn)
        if stored is not None and stored["created_by_id"] is not None:
            stored["by"] = conn.execute(
                users.select()
                .with_only_columns(users.c.name)
                .where(users.c.id == stored["created_by_id"])
            ).scalar()
        return stored

    stored = await c.db.read(read)
    data = stored["data"] if stored else DEFAULT_LEXICON.as_mapping()
    return await settings_page(
        request,
        agent,
        "ui/settings/triage.html",
        error=error,
        status_code=422 if error else 200,
        stored=stored,
        text=typed if typed is not None else _pretty(data),
        max_json=MAX_JSON,
        max_terms=MAX_TERMS,
        max_term_length=MAX_TERM_LENGTH,
    )


@get(PAGE, include_in_schema=False)
async def triage_page(request: Req) -> Template | Redirect:
    return await admin_view(request, _page)


@post(PAGE, include_in_schema=False, status_code=200, request_max_body_size=2 * MAX_JSON)
async def save_triage(request: Req) -> Template | Redirect:
    agent = await require_admin(request)
    form = await read_form(request)
    typed = form.raw("lexicon", MAX_JSON)
    try:
        if form.flag("restore"):
            raw: Any = DEFAULT_LEXICON.as_mapping()
        elif len(typed) > MAX_JSON:
            raise ActionError(f"the lexicon is at most {MAX_JSON:,} characters of JSON")
        else:
            try:
                raw = json.loads(typed)
            except ValueError as exc:
                raise ActionError(f"not JSON: {exc}") from None
        await container(request).bus.execute(lambda tx: save_lexicon(tx, raw, actor_id=agent.id))
    except ActionError as exc:
        page = await _page(request, agent, error=str(exc), typed=typed[:MAX_JSON])
        page.status_code = error_status(exc)
        return page
    return done(PAGE, "lexicon_saved")


ROUTES = [triage_page, save_triage]
