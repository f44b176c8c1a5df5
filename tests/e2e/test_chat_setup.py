"""Setting up live chat in a real browser: the preview follows the form as the
admin types (under the page's strict policy), the inbox is created, the secret
shows on a click, and the setup page passes axe."""

from __future__ import annotations

import re
import uuid

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import ConsoleMessage, Page, expect

from .conftest import ARTIFACTS, Live
from .support import sign_in


def test_an_admin_sets_up_live_chat_with_a_live_preview(page: Page, live: Live) -> None:
    # Anything the Content-Security-Policy blocked, a script error, a failed request.
    refused: list[str] = []
    page.on("console", lambda m: _note(m, refused))
    page.on("response", lambda r: refused.append(r.url) if r.status >= 400 else None)
    page.on("pageerror", lambda e: refused.append(str(e)))
    sign_in(page, live, live.desk.admin, "/settings/inboxes")
    page.locator("details.provider summary", has_text="Live chat").click()
    preview = page.locator("#chat-new-preview")
    expect(preview.locator(".chat-greeting")).to_have_text("Hi! How can we help?")

    key = f"e2e-{uuid.uuid4().hex[:8]}"
    page.locator("#chat-new-name").fill("Acme on the web")
    page.locator("#chat-new-address").fill(key)
    page.locator("#chat-new-origins").fill("https://shop.acme.example\nhttp://localhost:3000")
    page.locator("#chat-new-greeting").fill("Hello <b>you</b>! We answer within minutes.")
    page.locator("#chat-new-color").fill("#ff5500")
    page.locator("#chat-new-position").select_option("left")
    page.locator("#chat-new-prechat").select_option("off")

    # As typed, before anything is saved: text stays text, the colour and corner follow.
    expect(preview.locator(".chat-greeting")).to_have_text(
        "Hello <b>you</b>! We answer within minutes."
    )
    expect(preview.locator(".chat-title")).to_have_text("Acme on the web")
    expect(preview).to_have_class(re.compile(r"\bleft\b"))
    expect(preview.locator(".chat-prechat")).to_be_hidden()
    expect(preview.locator(".chat-head")).to_have_css("background-color", "rgb(255, 85, 0)")
    expect(preview.locator(".chat-launcher")).to_have_css("background-color", "rgb(255, 85, 0)")
    page.locator("#chat-new-color").fill("#fde68a")  # a light colour gets dark text
    expect(preview.locator(".chat-head")).to_have_css("color", "rgb(17, 24, 39)")
    page.screenshot(path=str(ARTIFACTS / "chat-setup-preview.png"), full_page=True)

    page.get_by_role("button", name="Create the chat inbox").click()
    expect(page.get_by_role("status").first).to_contain_text("Paste the snippet into your site")
    snippet = f'<script src="{live.url}/widget.js" data-inbox="{key}" async></script>'
    expect(page.locator("#snippet pre.sample")).to_have_text(snippet)
    # The saved settings draw the preview on the setup page too.
    saved = page.locator("#chat-edit-preview")
    expect(saved.locator(".chat-head")).to_have_css("background-color", "rgb(253, 230, 138)")
    expect(saved).to_have_class(re.compile(r"\bleft\b"))

    secret = page.locator("#identity-secret")
    expect(secret.locator("code.copy")).to_have_count(0)
    page.get_by_role("button", name="Reveal the identity secret").click()
    expect(secret.locator("code.copy")).to_have_text(re.compile(r"^[A-Za-z0-9_-]{43}$"))
    expect(page).to_have_url(re.compile(r"/chat\?done=chat_added$"))  # swapped in by htmx
    page.screenshot(path=str(ARTIFACTS / "chat-setup-saved.png"), full_page=True)

    results = Axe().run(page)
    serious = [
        (v["id"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
    assert refused == []


def _note(message: ConsoleMessage, refused: list[str]) -> None:
    # Failed loads are counted from the responses (the browser's own favicon.ico
    # request is not the page's); here, what the policy refused.
    if message.type == "error" and "Failed to load resource" not in message.text:
        refused.append(message.text)
