"""What the settings pages that edit a versioned JSON document share: the triage
lexicon and the intake checklist, each saved as a new row of ``triage_lexicons``.

Each page shows the stored version in force with who saved it and when (or the
package's document while none is stored) in a textarea, and answers a refused save
with the page again, the error on top and the text as it was typed, so that nothing
typed is lost. What differs, the document and its action, stays in the page's module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from litestar.response import Template
from sqlalchemy.engine import Connection

from threadline.actions.errors import ActionError
from threadline.storage.tables import users
from threadline.web.ui.common import Agent, Req, container
from threadline.web.ui.settings_common import error_status, settings_page

__all__ = ["JsonDocument", "document_page", "parse_document", "refused"]


@dataclass(frozen=True)
class JsonDocument:
    """One page's document: how to read it, and what the page says about it."""

    template: str
    noun: str  # in the errors: "the lexicon is at most … characters of JSON"
    max_json: int  # characters in the textarea; the form posts at most twice that
    version: Callable[[Connection], dict[str, Any] | None]  # the stored one, None: none
    default: Callable[[], Any]  # the package's, shown while none is stored
    limits: Mapping[str, Any]  # the bounds the page's text names


async def document_page(
    request: Req,
    agent: Agent,
    doc: JsonDocument,
    *,
    error: str | None = None,
    status_code: int = 200,
    typed: str | None = None,
) -> Template:
    """The page: the stored version with its author's name (``by``), or the default."""

    def read(conn: Connection) -> dict[str, Any] | None:
        stored = doc.version(conn)
        if stored is not None and stored["created_by_id"] is not None:
            stored["by"] = conn.execute(
                users.select()
                .with_only_columns(users.c.name)
                .where(users.c.id == stored["created_by_id"])
            ).scalar()
        return stored

    stored = await container(request).db.read(read)
    data = stored["data"] if stored else doc.default()
    return await settings_page(
        request,
        agent,
        doc.template,
        error=error,
        status_code=status_code,
        stored=stored,
        text=typed if typed is not None else json.dumps(data, indent=1, ensure_ascii=False),
        max_json=doc.max_json,
        **doc.limits,
    )


def parse_document(doc: JsonDocument, typed: str) -> Any:
    """The typed text as JSON; ActionError if it is too long or not JSON. Whether it
    is a valid document is for the action to say."""
    if len(typed) > doc.max_json:
        raise ActionError(f"the {doc.noun} is at most {doc.max_json:,} characters of JSON")
    try:
        return json.loads(typed)
    except ValueError as exc:
        raise ActionError(f"not JSON: {exc}") from None


async def refused(
    request: Req, agent: Agent, doc: JsonDocument, exc: ActionError, typed: str
) -> Template:
    """A save the action refused: the page again, with why and the text as typed."""
    return await document_page(
        request,
        agent,
        doc,
        error=str(exc),
        status_code=error_status(exc),
        typed=typed[: doc.max_json],
    )
