"""The customer panel, search, and what a restricted agent can never reach."""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from threadline.storage.db import sync_url

from .conftest import ARTIFACTS, Live
from .support import send_email, send_sms, sign_in

LIVE = 10_000


def _conversation_of(live: Live, text: str) -> int:
    """The conversation a message landed in (the test's view from outside the UI)."""
    engine = sa.create_engine(sync_url(live.database_url))
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                found = conn.exec_driver_sql(
                    "SELECT conversation_id FROM messages WHERE text = ?", (text,)
                ).scalar()
            if found is not None:
                return int(found)
            time.sleep(0.1)
    finally:
        engine.dispose()
    raise AssertionError(f"no message {text!r}")


def test_a_merge_suggestion_is_accepted_then_undone_from_the_customer_panel(
    page: Page, live: Live
) -> None:
    page.on("dialog", lambda d: d.accept())  # the "are you sure?" of merge and undo
    sign_in(page, live, live.desk.admin, f"/customers/{live.desk.bo}")
    suggestions = page.locator("[aria-labelledby=suggestions-title]")
    expect(suggestions).to_contain_text("Bo C.")
    page.screenshot(path=ARTIFACTS / "customer.png", full_page=True)

    suggestions.get_by_role("button", name="Merge").click()
    expect(page.locator("h1")).to_have_text("Bo Chen")
    panel = page.get_by_label("Customer details")
    expect(panel).to_contain_text("+14155550177")  # the claimant's number is Bo's now
    expect(page.locator("[aria-labelledby=suggestions-title]")).to_have_count(0)

    panel.get_by_role("button", name="Undo merge").click()
    expect(page.locator("h1")).to_have_text("Bo C.")
    expect(page.get_by_label("Customer details")).to_contain_text("+14155550177")
    page.goto(f"{live.url}/customers/{live.desk.bo}")
    expect(page.get_by_label("Customer details")).not_to_contain_text("+14155550177")
    expect(page.locator("[aria-labelledby=suggestions-title]")).to_contain_text("Bo C.")


def test_search_finds_a_customer_by_name_and_a_conversation_by_a_subject_word(
    page: Page, live: Live
) -> None:
    word = f"zeppelin{uuid.uuid4().hex[:5]}"
    send_email(live, "ana@example.com", f"The {word} order", "Where is it?")
    sign_in(page, live, live.desk.admin, "/inbox")
    page.keyboard.press("/")
    expect(page.locator("#search-box")).to_be_focused()
    page.keyboard.type("souza")
    page.keyboard.press("Enter")
    customers = page.locator("[aria-labelledby=hits-customers]")
    expect(customers.get_by_role("link", name="Ana Souza")).to_be_visible()
    expect(customers.locator("mark")).to_have_text("Souza")

    page.locator("#search-box").fill(word)
    page.locator("#search-box").press("Enter")
    conversations = page.locator("[aria-labelledby=hits-conversations]")
    expect(conversations).to_contain_text(f"The {word} order", timeout=LIVE)
    expect(conversations.locator("mark")).to_have_text(word)


def test_an_agent_restricted_to_one_inbox_never_sees_another_inboxs_conversations(
    browser: Browser, live: Live
) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        sign_in(page, live, live.desk.rosa, "/inbox?view=all")
        secret = f"Sales lead {uuid.uuid4().hex[:6]}"
        billing = f"Billing note {uuid.uuid4().hex[:6]}"
        # Published first, on the SMS line (Sales): the stream must not carry it.
        send_sms(live, f"+1415555{uuid.uuid4().int % 10_000:04d}", secret)
        send_email(live, f"pat.{uuid.uuid4().hex[:6]}@example.com", billing, "About my bill")
        expect(page.locator("#rows")).to_contain_text(billing, timeout=LIVE)
        expect(page.locator("#rows")).not_to_contain_text(secret)

        page.reload()  # nor the list
        expect(page.locator("#rows")).not_to_contain_text(secret)
        page.goto(f"{live.url}/search?q={secret.split()[-1]}")  # nor search
        expect(page.locator("main")).not_to_contain_text(secret)
        hidden = _conversation_of(live, secret)
        answer = page.goto(f"{live.url}/conversations/{hidden}")  # nor a guessed URL
        assert answer is not None
        assert answer.status == 404
        expect(page.locator("main")).to_contain_text("Nothing here")
        assert page.request.get(f"{live.url}/ui/stream?conversation={hidden}").status == 404
    finally:
        context.close()
