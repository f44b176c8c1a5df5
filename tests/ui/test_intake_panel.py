"""The intake on the conversation page: each fact of the conversation's category with
the value the customer gave (escaped) or "missing", beside the triage decision; the
"Ask for the missing" button fills the composer (htmx, or ?ask=intake without
JavaScript); and Settings → Intake, where an admin edits the checklist."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from tests.support.factories import make_email_inbox
from tests.support.inbox import email
from tests.support.settings_ui import Browser, audit, signed_in_admin
from tests.support.ui import csrf_token, make_user, sign_in

from threadline.actions.intake import intake_version
from threadline.bootstrap import Container
from threadline.core.intake import DEFAULT_CHECKLIST

pytestmark = pytest.mark.anyio

ASK_EN = (
    "To look into this, could you send us your order or invoice number and the name on the account?"
)


@pytest.fixture
async def agent(container: Container, served: str) -> AsyncIterator[httpx.AsyncClient]:
    await make_user(container, "ada@acme.test", role="agent")
    async with httpx.AsyncClient(base_url=served) as client:
        assert (await sign_in(client, "ada@acme.test")).status_code == 302
        yield client


def _panel(page: str) -> str:
    found = re.search(r'<section class="intake" id="intake".*?</section>', page, re.S)
    assert found, "no intake panel"
    return found[0]


def _facts(panel: str) -> dict[str, str]:
    """Each fact's label -> what the panel says of it (its value, or 'missing')."""
    return {
        html.unescape(label): html.unescape(re.sub(r"<[^>]+>", "", said)).strip()
        for label, said in re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", panel, re.S)
    }


def _composer_text(page: str) -> str:
    found = re.search(r'<textarea id="reply-text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found, "no composer"
    return html.unescape(found[1])


async def test_the_panel_shows_what_a_billing_email_gave_and_what_is_missing(
    container: Container, agent: httpx.AsyncClient
) -> None:
    inbox = await make_email_inbox(container)
    cid = await email(
        container, inbox, "Charged twice", "Hi, I was charged twice for order 48213. Please help!"
    )
    page = (await agent.get(f"/conversations/{cid}")).text
    panel = _panel(page)
    assert "Billing: 1 of 3" in panel
    assert _facts(panel) == {
        "Order or invoice number": "48213",
        "Name on the account": "missing",
        "Last 4 card digits": "not given (optional)",
    }
    assert page.index('id="triage"') < page.index('id="intake"')  # beside the decision
    assert "Ask for the missing" in panel


async def test_a_new_message_redraws_the_panel_with_the_head(
    container: Container, agent: httpx.AsyncClient
) -> None:
    """The head (triage and intake) is what the "refresh" push reloads on every
    customer message (hub.py); here its GET answers with the new fact."""
    inbox = await make_email_inbox(container)
    cid = await email(container, inbox, "Charged twice", "I was charged twice for order 48213")
    again = await email(container, inbox, "Charged twice", "The name on the account is Ana Lima.")
    assert again == cid
    head = (await agent.get(f"/ui/conversations/{cid}/head")).text
    assert _facts(_panel(head))["Name on the account"] == "Ana Lima"
    assert "Ask for the missing" not in head  # nothing left to ask


async def test_without_javascript_the_ask_link_opens_the_page_with_the_message_in_the_composer(
    container: Container, agent: httpx.AsyncClient
) -> None:
    inbox = await make_email_inbox(container)
    cid = await email(container, inbox, "Charged twice", "Hi, I was charged twice. Thanks")
    page = (await agent.get(f"/conversations/{cid}")).text
    assert f'href="/conversations/{cid}?ask=intake#reply-text"' in _panel(page)
    assert _composer_text(page) == ""
    asked = (await agent.get(f"/conversations/{cid}?ask=intake")).text
    assert _composer_text(asked) == ASK_EN


async def test_the_ask_button_keeps_the_draft_and_the_channel_and_adds_the_message(
    container: Container, agent: httpx.AsyncClient
) -> None:
    inbox = await make_email_inbox(container)
    cid = await email(
        container,
        inbox,
        "Doppelte Abbuchung",
        "Hallo, ich wurde doppelt belastet und das ist nicht richtig.",
    )
    token = await csrf_token(agent, f"/conversations/{cid}")
    r = await agent.post(
        f"/ui/conversations/{cid}/ask",
        data={"_csrf_token": token, "text": "Hallo Ana,", "channel": "email", "seen": "7"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200, r.text
    assert r.text.lstrip().startswith('<form id="composer"')
    assert _composer_text(r.text) == (
        "Hallo Ana,\n\nDamit wir uns das ansehen können, senden Sie uns bitte Ihre Bestell- "
        "oder Rechnungsnummer und den Namen, auf den das Konto läuft."
    )
    assert re.search(r'<option value="email" selected', r.text)
    assert 'name="seen" value="7"' in r.text  # the stale-reply check still holds


async def test_a_found_value_is_escaped(container: Container, agent: httpx.AsyncClient) -> None:
    inbox = await make_email_inbox(container)
    cid = await email(
        container,
        inbox,
        "Where is it",
        "My order 48213 never came. Address: <img src=x onerror=alert(1)>",
    )
    panel = _panel((await agent.get(f"/conversations/{cid}")).text)
    assert "<img" not in panel
    assert "&lt;img src=x onerror=alert(1)&gt;" in panel


async def test_a_viewer_sees_the_panel_but_no_ask_button(container: Container, served: str) -> None:
    inbox = await make_email_inbox(container)
    cid = await email(container, inbox, "Charged twice", "I was charged twice")
    await make_user(container, "vic@acme.test", role="viewer")
    async with httpx.AsyncClient(base_url=served) as viewer:
        assert (await sign_in(viewer, "vic@acme.test")).status_code == 302
        page = (await viewer.get(f"/conversations/{cid}?ask=intake")).text
    assert _facts(_panel(page))["Name on the account"] == "missing"
    assert "Ask for the missing" not in page


PAGE = "/settings/intake"


@pytest.fixture
async def admin(container: Container, served: str) -> AsyncIterator[Browser]:
    async with signed_in_admin(container, served) as browser:
        yield browser


async def test_an_admin_edits_the_checklist_and_conversations_show_it(
    container: Container, admin: Browser
) -> None:
    page = html.unescape((await admin.get(PAGE)).text)
    assert "nothing saved here yet" in page
    assert '"Order or invoice number"' in page

    edited = DEFAULT_CHECKLIST.as_mapping()
    edited["billing"]["facts"][1]["label"] = "Account holder"
    edited["billing"]["template"]["en"] = "Hello! Please reply with {missing}."
    saved = await admin.post(PAGE, {"checklist": json.dumps(edited)})
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"{PAGE}?done=intake_saved"
    assert "Saved by" in (await admin.get(saved.headers["location"])).text

    inbox = await make_email_inbox(container)
    cid = await email(container, inbox, "Charged twice", "I was charged twice for order 48213")
    page = (await admin.get(f"/conversations/{cid}?ask=intake")).text
    assert _facts(_panel(page))["Account holder"] == "missing"
    assert _composer_text(page) == "Hello! Please reply with the name on the account."
    assert len(await audit(container, "intake_checklist.set")) == 1


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("{not json", "not JSON"),
        ('{"refunds": {}}', "unknown category 'refunds'"),
        (
            '{"billing": {"facts": [{"key": "po", "label": "PO", "ask": "your PO", '
            '"patterns": ["(po"]}], "template": "{missing}"}}',
            "billing, po, pattern 1: not a regular expression",
        ),
    ],
)
async def test_a_bad_checklist_is_refused_with_why_and_what_was_typed(
    container: Container, admin: Browser, typed: str, message: str
) -> None:
    refused = await admin.post(PAGE, {"checklist": typed})
    assert refused.status_code == 422
    shown = html.unescape(refused.text)
    assert message in shown
    assert f">{typed}</textarea>" in shown
    assert await container.db.read(intake_version) is None


async def test_the_default_comes_back(container: Container, admin: Browser) -> None:
    await admin.post(PAGE, {"checklist": json.dumps({"other": {"facts": []}})})
    assert await container.db.read(intake_version) is not None
    restored = await admin.post(PAGE, {"restore": "1"})
    assert restored.status_code == 303
    assert await container.db.read(intake_version) is None
    assert "nothing saved here yet" in (await admin.get(PAGE)).text
