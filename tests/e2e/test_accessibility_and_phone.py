"""Accessibility (axe-core) on each screen, and the inbox at a phone's width."""

from __future__ import annotations

import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from .conftest import ARTIFACTS, Live
from .support import send_email, sign_in

SERIOUS = ("serious", "critical")


def _conversation_url(page: Page, live: Live) -> str:
    subject = f"Axe {uuid.uuid4().hex[:6]}"
    send_email(live, "ana@example.com", subject, "Checking the screens.")
    page.goto(f"{live.url}/inbox?view=all")
    row = page.locator("#rows .row", has_text=subject)
    expect(row).to_be_visible(timeout=10_000)
    return str(row.locator("a.open").get_attribute("href"))


@pytest.mark.parametrize(
    "screen", ["inbox", "conversation", "customer", "search", "settings", "settings/inboxes"]
)
def test_each_screen_has_no_serious_or_critical_accessibility_violation(
    page: Page, live: Live, screen: str
) -> None:
    sign_in(page, live, live.desk.admin, "/inbox")
    paths = {
        "inbox": "/inbox?view=all",
        "conversation": _conversation_url(page, live) if screen == "conversation" else "",
        "customer": f"/customers/{live.desk.ana}",
        "search": "/search?q=ana",
        "settings": "/settings/agents",
        "settings/inboxes": "/settings/inboxes",
    }
    page.goto(f"{live.url}{paths[screen]}")
    expect(page.locator("main")).to_be_visible()
    results = Axe().run(page)
    found = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]
    assert found == []


def test_the_workspace_fits_a_phone_without_sideways_scrolling(
    browser: Browser, live: Live
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        sign_in(page, live, live.desk.admin, "/inbox?view=all")
        conversation = _conversation_url(page, live)
        for path in (
            "/inbox?view=all",
            conversation,
            f"/customers/{live.desk.ana}",
            "/search?q=ana",
        ):
            page.goto(f"{live.url}{path}")
            expect(page.locator("main")).to_be_visible()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (path, width)
        page.goto(f"{live.url}/inbox?view=all")
        page.screenshot(path=ARTIFACTS / "inbox-phone.png", full_page=True)
    finally:
        context.close()


def test_the_timeline_follows_the_action_bar_with_no_empty_band(page: Page, live: Live) -> None:
    # The presence and visitor-typing live regions are empty nearly always; they had a
    # min-height that held an empty band of about 3rem between the two.
    sign_in(page, live, live.desk.admin, "/inbox?view=all")
    page.goto(f"{live.url}{_conversation_url(page, live)}")
    expect(page.locator("#timeline .entry").first).to_be_visible()
    actions = page.locator("#convo-head .actions").bounding_box()
    timeline = page.locator("#timeline").bounding_box()
    assert actions is not None
    assert timeline is not None
    gap = timeline["y"] - (actions["y"] + actions["height"])
    assert 0 <= gap <= 16, gap  # the action bar's own margin, and no more
    page.screenshot(path=ARTIFACTS / "conversation-head.png")
