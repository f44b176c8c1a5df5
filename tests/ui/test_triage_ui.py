"""The triage decision on the conversation page: category, urgent, sensitive, the
recommended reply channel and the reasons; an agent corrects it from the page (htmx or
a plain form), a viewer only sees it, and the correction is on the timeline."""

from __future__ import annotations

import html

import pytest
from tests.support.factories import api_client, make_api_inbox
from tests.support.inbox import write
from tests.support.ui import csrf_token, make_user, sign_in

from threadline.bootstrap import Container

pytestmark = pytest.mark.anyio


async def _conversation(c: Container, text: str) -> int:
    inbox = await make_api_inbox(c)
    out = await write(c, inbox, "ana", text)
    assert out.conversation_id is not None
    return out.conversation_id


async def test_the_page_shows_the_decision_and_why(container: Container) -> None:
    cid = await _conversation(container, "I forgot my password and the site is down!")
    await make_user(container, "vic@acme.test", role="viewer")
    async with api_client(container) as web:
        await sign_in(web, "vic@acme.test")
        page = await web.get(f"/conversations/{cid}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert '<span class="chip cat">Technical</span>' in text
    assert '<span class="chip urgent">Urgent</span>' in text
    assert "Sensitive</span>" in text
    assert "Reply by the API</span>" in text
    assert "<li>matched 'password' → technical, sensitive</li>" in text
    assert 'action="/ui/conversations/' + str(cid) + '/triage"' not in text  # a viewer


async def test_an_agent_corrects_the_triage_from_the_page(container: Container) -> None:
    cid = await _conversation(container, "where is my parcel?")
    await make_user(container, "sam@acme.test", role="agent")
    async with api_client(container) as web:
        await sign_in(web, "sam@acme.test")
        token = await csrf_token(web, f"/conversations/{cid}")
        head = await web.post(
            f"/ui/conversations/{cid}/triage",
            data={
                "_csrf_token": token,
                "category": "billing",
                "urgent": ["no", "yes"],
                "sensitive": "no",
            },
            headers={"HX-Request": "true"},
        )
        assert head.status_code == 200, head.text
        assert '<span class="chip cat">Billing</span>' in head.text
        assert '<span class="chip urgent">Urgent</span>' in head.text
        assert "corrected by sam" in head.text
        page = await web.get(f"/conversations/{cid}")
    assert (
        "sam corrected the triage: category from logistics to billing, urgent from no to yes"
        in (html.unescape(page.text))
    )


async def test_a_plain_form_goes_back_to_the_page_and_a_bad_value_is_refused(
    container: Container,
) -> None:
    cid = await _conversation(container, "thanks!")
    await make_user(container, "sam@acme.test", role="agent")
    async with api_client(container) as web:
        await sign_in(web, "sam@acme.test")
        token = await csrf_token(web, f"/conversations/{cid}")
        back = await web.post(
            f"/ui/conversations/{cid}/triage",
            data={"_csrf_token": token, "category": "sales"},
            follow_redirects=False,
        )
        assert (back.status_code, back.headers["location"]) == (302, f"/conversations/{cid}")
        bad = await web.post(
            f"/ui/conversations/{cid}/triage",
            data={"_csrf_token": token, "urgent": "maybe"},
            headers={"HX-Request": "true"},
        )
    assert bad.status_code == 422
    assert "urgent is yes or no" in bad.text
