"""An agent corrects a conversation's triage from its page: one form that posts to
``correct_triage`` and answers with the conversation's head redrawn (htmx) or a
redirect back (no JavaScript)."""

from __future__ import annotations

from litestar import post
from litestar.response import Redirect, Template

from threadline.actions.errors import ActionError
from threadline.actions.triage import correct_triage
from threadline.queries.scope import access_conversation
from threadline.storage.db import Tx
from threadline.web.api.params import Id
from threadline.web.ui.actions import apply_and_redraw
from threadline.web.ui.common import Req, require_writer

__all__ = ["ROUTES"]

_YES_NO = {"yes": True, "no": False}


def _flag(form: dict[str, str], name: str) -> bool | None:
    """A checkbox after its hidden "no": the form sends both, and a checked box wins."""
    raw = form.get(name)
    if raw is None or raw == "":
        return None
    if raw not in _YES_NO:
        raise ActionError(f"{name} is yes or no")
    return _YES_NO[raw]


@post("/ui/conversations/{conversation_id:int}/triage", include_in_schema=False, status_code=200)
async def correct(request: Req, conversation_id: Id) -> Template | Redirect:
    agent = await require_writer(request)
    raw = await request.form()
    # A checked box sends "no" (the hidden field) and then "yes": the last one counts.
    form: dict[str, str] = {}
    for name in ("category", "urgent", "sensitive"):
        values = [v for v in raw.getall(name, []) if isinstance(v, str)]
        if values:
            form[name] = values[-1][:20]

    def apply(tx: Tx) -> tuple[str, ...]:
        return correct_triage(
            tx,
            access_conversation(tx.conn, agent.scope, conversation_id),
            actor_id=agent.id,
            category=form.get("category") or None,
            urgent=_flag(form, "urgent"),
            sensitive=_flag(form, "sensitive"),
        )

    return await apply_and_redraw(request, agent, conversation_id, apply)


ROUTES = [correct]
