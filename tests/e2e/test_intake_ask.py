"""The intake panel in a real browser: a billing email shows what is missing, and
"Ask for the missing" (htmx) puts the question after the agent's draft in the composer,
on the channel picked, with nothing sent; the page has no serious accessibility
violation with the panel on it."""

from __future__ import annotations

import uuid

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from .conftest import Live
from .support import send_email, sign_in


def test_the_ask_button_adds_the_question_to_the_draft(page: Page, live: Live) -> None:
    subject = f"Charged twice {uuid.uuid4().hex[:6]}"
    sender = f"ana.{uuid.uuid4().hex[:6]}@example.com"
    send_email(live, sender, subject, "Hi, I was charged twice for order 48213. Please help!")
    sign_in(page, live, live.desk.admin, "/inbox?view=all")
    row = page.locator("#rows .row", has_text=subject)
    expect(row).to_be_visible(timeout=10_000)
    page.goto(f"{live.url}{row.locator('a.open').get_attribute('href')}")

    panel = page.locator("#intake")
    expect(panel).to_contain_text("Order or invoice number")
    expect(panel.locator("[data-fact=order_number] dd")).to_have_text("48213")
    expect(panel.locator("[data-fact=account_name] dd")).to_have_text("missing")
    assert [
        v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")
    ] == []

    page.locator("#reply-text").fill("Hi Ana,")
    page.get_by_role("link", name="Ask for the missing").click()
    expect(page.locator("#reply-text")).to_have_value(
        "Hi Ana,\n\nTo look into this, could you send us the name on the account?"
    )
    expect(page.locator("#channel-select")).to_have_value("email")
    expect(page.locator("#composer [role=status]")).to_have_count(0)  # nothing was sent
