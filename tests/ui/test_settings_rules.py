"""Settings → Rules: an admin adds a rule as JSON, edits it into a new version,
switches it off, moves it and deletes it; a mistake is shown with its place."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from tests.support.settings_ui import Browser, audit, signed_in_admin, user_id

from threadline.bootstrap import Container
from threadline.queries.rules import list_rules

pytestmark = pytest.mark.anyio

RULE: dict[str, Any] = {
    "name": "Refunds",
    "events": ["message_received"],
    "conditions": [{"text": ["refund"]}],
    "actions": [{"add_tag": "billing"}],
}


@pytest.fixture
async def admin(container: Container, served: str) -> AsyncIterator[Browser]:
    async with signed_in_admin(container, served) as browser:
        yield browser


async def rules(c: Container) -> list[dict[str, Any]]:
    return await c.db.read(list_rules)


async def test_an_admin_adds_edits_switches_moves_and_deletes_a_rule(
    container: Container, admin: Browser
) -> None:
    c = container
    added = await admin.post("/settings/rules", {"rule": json.dumps(RULE)})
    assert added.status_code == 303
    second = await admin.post("/settings/rules", {"rule": json.dumps({**RULE, "name": "VIP"})})
    assert second.status_code == 303
    first_id, second_id = (r["id"] for r in await rules(c))
    page = (await admin.get("/settings/rules")).text
    assert "1. Refunds" in page
    assert "2. VIP" in page
    # the first rule can only move down, the last only up
    first_card, last_card = page.split(f'id="rule-{first_id}"')[1].split(f'id="rule-{second_id}"')
    assert ("Move up" in first_card, "Move down" in first_card) == (False, True)
    assert ("Move up" in last_card, "Move down" in last_card) == (True, False)
    # the page shows each rule's JSON, ready to edit
    shown = re.search(rf'id="rule-json-{first_id}"[^>]*>(.*?)</textarea>', page, re.S)
    assert shown is not None
    assert json.loads(html.unescape(shown.group(1)))["conditions"] == RULE["conditions"]

    edited = {**RULE, "actions": [{"set_priority": "high"}]}
    r = await admin.post(f"/settings/rules/{first_id}", {"rule": json.dumps(edited)})
    assert r.status_code == 303
    r = await admin.post(f"/settings/rules/{first_id}/enabled", {"enabled": "0"})
    assert r.status_code == 303
    [first, _] = await rules(c)
    assert (first["version"], first["enabled"], first["actions"]) == (
        3,
        False,
        [{"set_priority": "high"}],
    )
    assert "v3 · off" in (await admin.get("/settings/rules")).text

    r = await admin.post(f"/settings/rules/{second_id}/move", {"direction": "up"})
    assert r.status_code == 303
    assert [x["id"] for x in await rules(c)] == [second_id, first_id]
    r = await admin.post(f"/settings/rules/{second_id}/delete")
    assert r.status_code == 303
    assert [x["id"] for x in await rules(c)] == [first_id]
    ada = await user_id(c, "ada@acme.test")
    assert await audit(c, "rule.delete") == [(f"user:{ada}", f"rule:{second_id}", {})]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "a rule is a JSON object"),
        (json.dumps({**RULE, "actions": [{"add_tag": "a/b"}]}), "actions[0].add_tag"),
        (json.dumps({**RULE, "conditions": [{"channel": ["fax"]}]}), "conditions[0].channel[0]"),
    ],
)
async def test_a_mistake_is_shown_with_its_place_and_the_text_kept(
    container: Container, admin: Browser, text: str, says: str
) -> None:
    r = await admin.post("/settings/rules", {"rule": text})
    assert r.status_code == 422
    assert says in html.unescape(r.text)
    kept = re.search(r'id="rule-new"[^>]*>(.*?)</textarea>', r.text, re.S)
    assert kept is not None
    assert html.unescape(kept.group(1)) == text  # what was typed is kept for the fix
    assert await rules(container) == []
