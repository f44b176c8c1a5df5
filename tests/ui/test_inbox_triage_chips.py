"""The triage decision on inbox rows: a category chip, an urgent chip and a lock for
sensitive, none before a decision, escaped; and the inbox filtered by category."""

from __future__ import annotations

import re

import pytest
from tests.support.factories import api_client, make_api_inbox, make_email_inbox
from tests.support.inbox import email, write
from tests.support.ui import make_user, sign_in

from threadline.bootstrap import Container
from threadline.storage.tables import conversations, triage_decisions

pytestmark = pytest.mark.anyio


def row_of(page: str, cid: int) -> str:
    found = re.search(rf'<li class="row[^"]*" id="c-{cid}".*?</li>', page, re.S)
    assert found is not None, f"no row for conversation {cid}"
    return found[0]


async def inbox_page(c: Container, query: str = "status=all") -> str:
    async with api_client(c) as web:
        await sign_in(web, "sam@acme.test")
        page = await web.get(f"/inbox?{query}")
    assert page.status_code == 200
    return page.text


async def test_an_urgent_billing_email_shows_its_category_and_urgent_on_the_row(
    container: Container,
) -> None:
    c = container
    await make_user(c, "sam@acme.test")
    cid = await email(c, await make_email_inbox(c), "Card", "My card was declined, help now")
    row = row_of(await inbox_page(c), cid)
    assert '<span class="chip cat" data-triage="category">Billing</span>' in row
    assert '<span class="chip urgent" data-triage="urgent">urgent</span>' in row
    assert 'data-triage="sensitive"' not in row


async def test_a_sensitive_conversation_shows_a_lock_with_a_label(container: Container) -> None:
    c = container
    await make_user(c, "sam@acme.test")
    out = await write(c, await make_api_inbox(c), "ana", "I forgot my password")
    assert out.conversation_id is not None
    row = row_of(await inbox_page(c), out.conversation_id)
    assert 'data-triage="sensitive"' in row
    assert 'aria-label="Sensitive"' in row


async def test_a_conversation_never_triaged_has_no_triage_chip(container: Container) -> None:
    c = container
    await make_user(c, "sam@acme.test")
    out = await write(c, await make_api_inbox(c), "ana", "my card was declined")
    cid = out.conversation_id
    assert cid is not None

    # As a conversation stored before triage existed (migration 0015) still is.
    def forget(tx: object) -> None:
        conn = tx.conn  # type: ignore[attr-defined]
        conn.execute(triage_decisions.delete().where(triage_decisions.c.conversation_id == cid))
        conn.execute(conversations.update().where(conversations.c.id == cid).values(category=None))

    await c.bus.execute(forget)
    row = row_of(await inbox_page(c), cid)
    assert "data-triage" not in row


async def test_the_rows_category_is_escaped(container: Container) -> None:
    c = container
    await make_user(c, "sam@acme.test")
    out = await write(c, await make_api_inbox(c), "ana", "hello")
    cid = out.conversation_id
    assert cid is not None
    hostile = '<img src=x onerror="alert(1)">'
    await c.bus.execute(
        lambda tx: tx.conn.execute(
            conversations.update().where(conversations.c.id == cid).values(category=hostile)
        )
    )
    row = row_of(await inbox_page(c), cid)
    assert "<img" not in row
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in row


async def test_the_inbox_filters_by_category(container: Container) -> None:
    c = container
    await make_user(c, "sam@acme.test")
    inbox = await make_api_inbox(c)
    billing = (await write(c, inbox, "ana", "I want a refund")).conversation_id
    parcel = (await write(c, inbox, "bob", "where is my parcel?")).conversation_id
    page = await inbox_page(c, "status=all&category=billing")
    assert f'id="c-{billing}"' in page
    assert f'id="c-{parcel}"' not in page
    assert '<option value="billing" selected>Billing</option>' in page
    # an unknown category is no filter at all
    page = await inbox_page(c, "status=all&category=%3Cb%3E")
    assert f'id="c-{billing}"' in page
    assert f'id="c-{parcel}"' in page
