"""Inbox scope, as a restricted agent meets it in the API and the UI.

Billing works billing@, Sales works sales@. Rosa is in Billing and restricted to
her teams' inboxes; Sam (an agent) and Ada (an admin) see every inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tests.support.factories import (
    deliver_api,
    deliver_email,
    make_agent,
    make_email,
    make_inbox,
    make_team,
    ui_login,
)

from threadline.actions.customers import merge_customers
from threadline.bootstrap import Container
from threadline.queries.scope import EVERYTHING, Scope, load_scope
from threadline.queries.search import search_messages
from threadline.queries.timeline import customer_timeline

pytestmark = pytest.mark.anyio

BILLING, SALES = "billing@acme.test", "sales@acme.test"
PASSWORD = "rosa's password"


@dataclass
class Shop:
    billing: int  # inbox ids
    sales: int
    team: int  # Billing
    rosa: int
    rosa_token: str
    sam_token: str
    ada_token: str
    ana: int  # wrote to billing@ and to sales@
    ana_billing: int  # her conversations
    ana_sales: int
    bo: int  # wrote to sales@ only
    bo_sales: int


async def _write(c: Container, inbox: int, to: str, sender: str, subject: str, body: str) -> Any:
    raw, _ = make_email(sender=sender, subject=subject, body=body, to=to)
    out = await deliver_email(c, inbox, raw, rcpt_tos=[to])
    assert out.status == "processed", out
    return out


@pytest.fixture
async def shop(container: Container) -> Shop:
    c = container
    billing = await make_inbox(c, "email", "Billing", BILLING, {"webhook_secret": "s"})
    sales = await make_inbox(c, "email", "Sales", SALES, {"webhook_secret": "s"})
    rosa, rosa_token = await make_agent(c, "rosa@acme.test", "agent", password=PASSWORD)
    _, sam_token = await make_agent(c, "sam@acme.test", "agent")
    _, ada_token = await make_agent(c, "ada@acme.test", "admin")
    team = await make_team(c, "Billing", members=[rosa], inboxes=[billing], restrict=[rosa])
    a1 = await _write(c, billing, BILLING, "ana@example.com", "Refund for #4417", "refund please")
    a2 = await _write(c, sales, SALES, "ana@example.com", "Bulk pricing", "a refund question too")
    b1 = await _write(c, sales, SALES, "bo@example.com", "Quote for 40 chairs", "refund policy?")
    assert a1.customer_id == a2.customer_id
    assert a1.conversation_id != a2.conversation_id
    return Shop(
        billing,
        sales,
        team,
        rosa,
        rosa_token,
        sam_token,
        ada_token,
        a1.customer_id,
        a1.conversation_id,
        a2.conversation_id,
        b1.customer_id,
        b1.conversation_id,
    )


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _get(base: str, path: str, token: str) -> Any:
    async with httpx.AsyncClient(base_url=base) as client:
        r = await client.get(path, headers=auth(token))
    assert r.status_code == 200, r.text
    return r.json()


async def test_load_scope_reads_teams_flag_and_role(container: Container, shop: Shop) -> None:
    async def scope(user_id: int, role: str) -> Scope:
        return await container.db.read(lambda conn: load_scope(conn, user_id, role))

    assert await scope(shop.rosa, "agent") == Scope(inbox_ids=frozenset({shop.billing}))
    assert await scope(shop.rosa, "admin") == EVERYTHING  # admins always see all
    assert await scope(shop.rosa + 100, "agent") == Scope()  # a deleted user sees nothing


async def test_a_restricted_agent_lists_only_their_teams_conversations(
    served: str, shop: Shop
) -> None:
    mine = await _get(served, "/api/v1/conversations", shop.rosa_token)
    assert [x["id"] for x in mine] == [shop.ana_billing]
    for token in (shop.sam_token, shop.ada_token):
        every = await _get(served, "/api/v1/conversations", token)
        assert {x["id"] for x in every} == {shop.ana_billing, shop.ana_sales, shop.bo_sales}
    assert await _get(served, "/api/v1/inboxes", shop.rosa_token) == [
        {"id": shop.billing, "channel": "email", "name": "Billing", "address": BILLING}
    ]


async def test_a_customer_shows_only_the_conversations_in_scope(
    container: Container, served: str, shop: Shop
) -> None:
    await container.bus.execute(
        lambda tx: merge_customers(tx, source_id=shop.bo, target_id=shop.ana, actor="test")
    )
    timeline = await _get(served, f"/api/v1/customers/{shop.ana}/timeline", shop.rosa_token)
    assert {e["conversation_id"] for e in timeline} == {shop.ana_billing, None}
    assert "customers_merged" in {e["kind"] for e in timeline}  # customer-level entries stay
    everything = await _get(served, f"/api/v1/customers/{shop.ana}/timeline", shop.sam_token)
    assert {e["conversation_id"] for e in everything} == {
        shop.ana_billing,
        shop.ana_sales,
        shop.bo_sales,
        None,
    }
    messages = await _get(
        served, f"/api/v1/conversations/{shop.ana_billing}/messages", shop.rosa_token
    )
    assert [m["text"] for m in messages] == ["refund please"]


async def test_customers_out_of_scope_are_not_found_and_not_listed(served: str, shop: Shop) -> None:
    listed = await _get(served, "/api/v1/customers", shop.rosa_token)
    assert [x["id"] for x in listed] == [shop.ana]
    assert (
        await _get(served, "/api/v1/customers?identity=email:bo@example.com", shop.rosa_token) == []
    )
    async with httpx.AsyncClient(base_url=served, headers=auth(shop.rosa_token)) as client:
        hidden = await client.get(f"/api/v1/customers/{shop.bo}")
        missing = await client.get("/api/v1/customers/999999")
        assert (hidden.status_code, missing.status_code) == (404, 404)
        # the answer for a hidden customer is the answer for a missing one
        assert hidden.json()["detail"].replace(str(shop.bo), "N") == missing.json()[
            "detail"
        ].replace("999999", "N")
        r = await client.patch(
            f"/api/v1/conversations/{shop.bo_sales}", json={"status": "resolved"}
        )
        assert r.status_code == 404
    detail = await _get(served, f"/api/v1/conversations/{shop.bo_sales}", shop.sam_token)
    assert detail["status"] == "open"  # the refused change did not happen


async def test_search_finds_only_messages_in_scope(
    container: Container, served: str, shop: Shop
) -> None:
    hits = (await _get(served, "/api/v1/search?q=refund", shop.rosa_token))["messages"]["hits"]
    assert [h["conversation_id"] for h in hits] == [shop.ana_billing]
    hits = (await _get(served, "/api/v1/search?q=refund", shop.sam_token))["messages"]["hits"]
    assert {h["conversation_id"] for h in hits} == {shop.ana_billing, shop.ana_sales, shop.bo_sales}
    # the query itself, scoped to one customer (the other walk on SQLite)
    rosa = Scope(inbox_ids=frozenset({shop.billing}))
    scoped = await container.db.read(
        lambda conn: search_messages(conn, "refund", scope=rosa, customer_id=shop.ana)
    )
    assert [h["conversation_id"] for h in scoped] == [shop.ana_billing]
    nothing = await container.db.read(
        lambda conn: customer_timeline(conn, shop.bo, scope=rosa, limit=50)
    )
    assert nothing == []


async def test_a_change_of_teams_applies_to_the_next_request(served: str, shop: Shop) -> None:
    async with httpx.AsyncClient(base_url=served, headers=auth(shop.ada_token)) as admin:
        r = await admin.put(
            f"/api/v1/teams/{shop.team}/inboxes", json={"inbox_ids": [shop.billing, shop.sales]}
        )
        assert r.status_code == 200, r.text
        assert r.json()["inbox_ids"] == sorted([shop.billing, shop.sales])
    mine = await _get(served, "/api/v1/conversations", shop.rosa_token)
    assert {x["id"] for x in mine} == {shop.ana_billing, shop.ana_sales, shop.bo_sales}

    async with httpx.AsyncClient(base_url=served, headers=auth(shop.ada_token)) as admin:
        r = await admin.put(f"/api/v1/teams/{shop.team}/members", json={"user_ids": []})
        assert r.status_code == 200, r.text
    assert await _get(served, "/api/v1/conversations", shop.rosa_token) == []

    async with httpx.AsyncClient(base_url=served, headers=auth(shop.ada_token)) as admin:
        r = await admin.put(f"/api/v1/users/{shop.rosa}/inbox-scope", json={"all_inboxes": True})
        assert r.status_code == 200, r.text
    assert len(await _get(served, "/api/v1/conversations", shop.rosa_token)) == 3


async def test_the_ui_shows_a_restricted_agent_only_their_scope(served: str, shop: Shop) -> None:
    async with httpx.AsyncClient(base_url=served) as browser:
        await ui_login(browser, "rosa@acme.test", PASSWORD)
        inbox = await browser.get("/inbox")
        assert inbox.status_code == 200
        assert "Refund for #4417" in inbox.text
        assert "Bulk pricing" not in inbox.text
        assert "Quote for 40 chairs" not in inbox.text
        ana = await browser.get(f"/customers/{shop.ana}")
        assert ana.status_code == 200
        assert "refund please" in ana.text
        assert "a refund question too" not in ana.text
        assert (await browser.get(f"/customers/{shop.bo}")).status_code == 404


async def test_merge_suggestions_name_only_customers_in_scope(
    container: Container, served: str, shop: Shop
) -> None:
    sales_app = await make_inbox(container, "api", "Sales app", "sales-app", {})
    claim = {"external_id": "visitor-7", "email": "ana@example.com", "verified": False}
    out = await deliver_api(container, sales_app, {"id": "v", "customer": claim, "text": "hi"})
    assert out.customer_id != shop.ana
    everything = await _get(served, f"/api/v1/customers/{shop.ana}", shop.sam_token)
    assert [s["customer_id"] for s in everything["merge_suggestions"]] == [out.customer_id]
    mine = await _get(served, f"/api/v1/customers/{shop.ana}", shop.rosa_token)
    assert mine["merge_suggestions"] == []
