"""The intake checklist over the API: everyone signed in reads the one in force, an
admin replaces it (checked as a whole: a bad one is refused with why, and nothing
changes), and GET /api/v1/conversations/{id} shows the conversation's intake, computed
from its customer's messages with the checklist in force."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from tests.support.api import auth
from tests.support.factories import api_client, make_agent, make_api_inbox, make_email_inbox
from tests.support.inbox import email, write
from tests.support.settings_ui import audit

from threadline.actions.lexicon import lexicon_version, save_lexicon
from threadline.bootstrap import Container
from threadline.core.intake import DEFAULT_CHECKLIST
from threadline.core.triage import DEFAULT_LEXICON

pytestmark = pytest.mark.anyio

API = "/api/v1"


def _checklist(**categories: Any) -> dict[str, Any]:
    return {"categories": categories}


BILLING_PO = {
    "facts": [
        {
            "key": "po",
            "label": "Purchase order",
            "ask": {"en": "your purchase order", "de": "Ihre Bestellnummer (PO)"},
            "patterns": [r"(?i:\bPO)[ \t#:]{0,3}(\d{5})"],
        }
    ],
    "template": {"en": "Please send {missing}.", "de": "Bitte senden Sie {missing}."},
}


async def _get(c: Container, token: str, path: str) -> dict[str, Any]:
    async with api_client(c) as client:
        r = await client.get(f"{API}{path}", headers=auth(token))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_everyone_reads_the_shipped_checklist_until_an_admin_saves_one(
    container: Container,
) -> None:
    _, viewer = await make_agent(container, role="viewer")
    got = await _get(container, viewer, "/intake")
    assert (got["stored"], got["saved_at"], got["saved_by_id"]) == (False, None, None)
    billing = got["categories"]["billing"]
    assert [f["key"] for f in billing["facts"]] == ["order_number", "account_name", "card_last4"]
    assert billing["facts"][2]["optional"] is True
    assert "{missing}" in billing["template"]["fr"]
    assert got["categories"]["other"] == {"facts": [], "template": {}}


async def test_an_admins_checklist_is_in_force_on_the_next_read(container: Container) -> None:
    c = container
    admin_id, admin = await make_agent(c, email="root@acme.test", role="admin")
    _, agent = await make_agent(c, role="agent")
    inbox = await make_api_inbox(c)
    out = await write(c, inbox, "ana", "My invoice was charged twice, PO 55123")
    assert out.conversation_id is not None
    before = (await _get(c, agent, f"/conversations/{out.conversation_id}"))["intake"]
    assert before["category"] == "billing"
    assert before["missing"] == ["order_number", "account_name"]

    async with api_client(c) as client:
        put = await client.put(
            f"{API}/intake", json=_checklist(billing=BILLING_PO), headers=auth(admin)
        )
    assert put.status_code == 200, put.text
    assert (put.json()["stored"], put.json()["saved_by_id"]) == (True, admin_id)
    assert put.json()["categories"]["logistics"] == {"facts": [], "template": {}}

    after = (await _get(c, agent, f"/conversations/{out.conversation_id}"))["intake"]
    assert (after["found"], after["missing"], after["ask"]) == ({"po": "55123"}, [], None)
    [(actor, subject, data)] = await audit(c, "intake_checklist.set")
    assert (actor, subject, data) == (f"user:{admin_id}", "intake_checklist", {"facts": 1})


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (_checklist(refunds={"facts": []}), 422, "unknown category 'refunds'"),
        (
            _checklist(
                billing={**BILLING_PO, "facts": [{**BILLING_PO["facts"][0], "patterns": ["(po"]}]}
            ),
            422,
            "billing, po, pattern 1: not a regular expression",
        ),
        (
            _checklist(
                billing={
                    **BILLING_PO,
                    "facts": [{**BILLING_PO["facts"][0], "patterns": [r"(\d+)+x"]}],
                }
            ),
            422,
            "every repeat needs a bound",
        ),
        (_checklist(billing={**BILLING_PO, "template": {"en": "Send it"}}), 422, "{missing}"),
        (
            _checklist(billing={**BILLING_PO, "facts": BILLING_PO["facts"] * 11}),
            400,
            "length <= 10",
        ),
        ({"billing": BILLING_PO}, 400, "unknown field"),
    ],
)
async def test_a_bad_checklist_is_refused_with_why_and_nothing_changes(
    container: Container, body: dict[str, Any], status: int, message: str
) -> None:
    c = container
    _, admin = await make_agent(c, role="admin")
    async with api_client(c) as client:
        r = await client.put(f"{API}/intake", json=body, headers=auth(admin))
    assert r.status_code == status, r.text
    assert message in r.text
    assert (await _get(c, admin, "/intake"))["stored"] is False


async def test_a_conversation_shows_what_its_customer_gave_and_asks_in_their_language(
    container: Container,
) -> None:
    c = container
    inbox = await make_email_inbox(c)
    _, agent = await make_agent(c, role="agent")
    cid = await email(
        c,
        inbox,
        "Doppelte Abbuchung",
        "Hallo, meine Rechnung wurde doppelt abgebucht. Die Karte endet auf 4242. Danke!",
        sender="jurgen@example.de",
    )
    intake = (await _get(c, agent, f"/conversations/{cid}"))["intake"]
    assert intake == {
        "category": "billing",
        "found": {"card_last4": "4242"},
        "missing": ["order_number", "account_name"],
        "language": "de",
        "ask": "Damit wir uns das ansehen können, senden Sie uns bitte Ihre Bestell- oder "
        "Rechnungsnummer und den Namen, auf den das Konto läuft.",
    }


async def test_the_lexicon_and_the_checklist_are_saved_together_without_losing_the_other(
    container: Container,
) -> None:
    """Both live in one versioned document (triage_lexicons): each save carries the
    other part over, and a checklist saved first leaves the shipped lexicon in force."""
    c = container
    admin_id, admin = await make_agent(c, role="admin")
    async with api_client(c) as client:
        assert (
            await client.put(
                f"{API}/intake", json=_checklist(billing=BILLING_PO), headers=auth(admin)
            )
        ).status_code == 200
    assert await c.db.read(lexicon_version) is None  # still the shipped lexicon
    lexicon = c.bus.cfg.lexicons
    assert await c.db.read(lambda conn: lexicon.current(conn, DEFAULT_LEXICON)) is DEFAULT_LEXICON

    edited = copy.deepcopy(DEFAULT_LEXICON.as_mapping())
    edited["urgent"].append("sos now")
    await c.bus.execute(lambda tx: save_lexicon(tx, edited, actor_id=admin_id))
    got = await _get(c, admin, "/intake")
    assert got["categories"]["billing"]["facts"][0]["key"] == "po"  # carried over
    stored = await c.db.read(lexicon_version)
    assert stored is not None
    assert "intake" not in stored["data"]
    assert "sos now" in stored["data"]["urgent"]

    async with api_client(c) as client:
        await client.put(
            f"{API}/intake",
            json={"categories": DEFAULT_CHECKLIST.as_mapping()},
            headers=auth(admin),
        )
    stored = await c.db.read(lexicon_version)
    assert stored is not None
    assert "sos now" in stored["data"]["urgent"]  # the lexicon carried over in turn
