"""Settings: the triage lexicon (docs/triage.md), edited as JSON. A save is checked by
parse_lexicon and holds on the next message; "Restore the default" stores the lexicon
the package ships as the newest version."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.response import Redirect, Template

from threadline.actions.errors import ActionError
from threadline.actions.lexicon import lexicon_version, save_lexicon
from threadline.core.lexicon import MAX_TERM_LENGTH, MAX_TERMS
from threadline.core.triage import DEFAULT_LEXICON
from threadline.web.ui.common import Req, container
from threadline.web.ui.settings_common import admin_view, done, read_form, require_admin
from threadline.web.ui.settings_json import JsonDocument, document_page, parse_document, refused

__all__ = ["ROUTES"]

PAGE = "/settings/triage"
# The largest lexicon parse_lexicon takes, as pretty JSON, with room to spare.
MAX_JSON = MAX_TERMS * (MAX_TERM_LENGTH + 12) + 4096


LEXICON = JsonDocument(
    template="ui/settings/triage.html",
    noun="lexicon",
    max_json=MAX_JSON,
    version=lexicon_version,
    default=DEFAULT_LEXICON.as_mapping,
    limits={"max_terms": MAX_TERMS, "max_term_length": MAX_TERM_LENGTH},
)


@get(PAGE, include_in_schema=False)
async def triage_page(request: Req) -> Template | Redirect:
    return await admin_view(request, document_page, LEXICON)


@post(PAGE, include_in_schema=False, status_code=200, request_max_body_size=2 * MAX_JSON)
async def save_triage(request: Req) -> Template | Redirect:
    agent = await require_admin(request)
    form = await read_form(request)
    typed = form.raw("lexicon", MAX_JSON)
    try:
        if form.flag("restore"):
            raw: Any = DEFAULT_LEXICON.as_mapping()
        else:
            raw = parse_document(LEXICON, typed)
        await container(request).bus.execute(lambda tx: save_lexicon(tx, raw, actor_id=agent.id))
    except ActionError as exc:
        return await refused(request, agent, LEXICON, exc, typed)
    return done(PAGE, "lexicon_saved")


ROUTES = [triage_page, save_triage]
