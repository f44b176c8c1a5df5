"""The triage lexicon under Settings: the shipped lists until an admin saves others;
a saved lexicon triages the next message and POST /api/v1/triage; a bad one is
refused with parse_lexicon's message and nothing is stored; the default comes back."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator

import pytest
from tests.support.api import auth
from tests.support.factories import api_client, make_agent, make_api_inbox
from tests.support.inbox import write
from tests.support.settings_ui import Browser, audit, signed_in_admin

from threadline.actions.lexicon import lexicon_version
from threadline.bootstrap import Container
from threadline.core.triage import DEFAULT_LEXICON

pytestmark = pytest.mark.anyio

PAGE = "/settings/triage"


@pytest.fixture
async def admin(container: Container, served: str) -> AsyncIterator[Browser]:
    async with signed_in_admin(container, served) as browser:
        yield browser


async def test_the_shipped_lists_show_until_an_admin_saves_others(admin: Browser) -> None:
    page = await admin.get(PAGE)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "nothing saved here yet" in text
    assert '"card declined"' in text
    assert '"rückerstattung"' not in text  # shown folded, as stored: "ruckerstattung"
    assert '"ruckerstattung"' in text


async def test_a_saved_lexicon_triages_the_next_message(
    container: Container, admin: Browser
) -> None:
    c = container
    edited = DEFAULT_LEXICON.as_mapping()
    edited["categories"]["logistics"].append("Lieferschein")
    edited["urgent"].append("Lieferschein")
    saved = await admin.post(PAGE, {"lexicon": json.dumps(edited)})
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"{PAGE}?done=lexicon_saved"
    page = html.unescape((await admin.get(saved.headers["location"])).text)
    assert "triage uses these lists from the next message" in page
    assert "Saved by" in page

    inbox = await make_api_inbox(c)
    out = await write(c, inbox, "ana", "where is the LIEFERSCHEIN?")
    assert out.conversation_id is not None
    _, token = await make_agent(c, email="sam@acme.test", role="agent")
    async with api_client(c) as client:
        got = await client.get(f"/api/v1/conversations/{out.conversation_id}", headers=auth(token))
        tried = await client.post(
            "/api/v1/triage",
            json={"text": "kein Lieferschein", "channel": "email"},
            headers=auth(token),
        )
    assert got.json()["triage"]["reasons"][0] == "matched 'lieferschein' → logistics, urgent"
    assert (tried.json()["category"], tried.json()["urgent"]) == ("logistics", True)
    [(actor, subject, data)] = await audit(c, "triage_lexicon.set")
    assert (actor.startswith("user:"), subject) == (True, "triage_lexicon")
    assert data["terms"] > 1000


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("{not json", "not JSON"),
        ('{"urgnet": ["asap"]}', "unknown list 'urgnet'"),
        ('{"urgent": ["a"]}', "'urgent', term 1: at least 2 characters"),
    ],
)
async def test_a_bad_lexicon_is_refused_with_why_and_what_was_typed(
    container: Container, admin: Browser, typed: str, message: str
) -> None:
    refused = await admin.post(PAGE, {"lexicon": typed})
    assert refused.status_code == 422
    shown = html.unescape(refused.text)
    assert message in shown
    assert f">{typed}</textarea>" in shown
    assert await container.db.read(lexicon_version) is None


async def test_the_default_comes_back(container: Container, admin: Browser) -> None:
    await admin.post(PAGE, {"lexicon": json.dumps({"urgent": ["sos"]})})
    restored = await admin.post(PAGE, {"restore": "1"})
    assert restored.status_code == 303
    stored = await container.db.read(lexicon_version)
    assert stored is not None
    assert stored["data"] == DEFAULT_LEXICON.as_mapping()
