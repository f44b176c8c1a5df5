"""An agent answers one customer across email and SMS from one live screen."""

from __future__ import annotations

import re
import time
import uuid

from playwright.sync_api import Page, expect

from .conftest import ARTIFACTS, Live
from .support import outbox, send_email, send_sms, sign_in

LIVE = 10_000  # ms: a push, not a poll, but CI machines are slow


def _wait(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def test_email_then_sms_from_one_customer_answered_on_each_channel_without_a_reload(
    page: Page, live: Live
) -> None:
    sign_in(page, live, live.desk.admin, "/inbox?view=all")
    page.evaluate("window.__stayed = true")  # a reload would lose it
    count = page.locator('[data-count="all"]')
    before = int(count.inner_text() or 0)
    subject = f"Invoice {uuid.uuid4().hex[:6]} is wrong"
    send_email(live, "ana@example.com", subject, "Hi, the amount on my invoice is wrong.")

    row = page.locator("#rows .row", has_text=subject)
    expect(row).to_be_visible(timeout=LIVE)
    expect(row).to_have_class(re.compile(r"\bunread\b"))
    expect(count).to_have_text(str(before + 1), timeout=LIVE)
    assert page.evaluate("window.__stayed") is True
    page.screenshot(path=ARTIFACTS / "inbox.png", full_page=True)

    row.locator("a.open").click()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("the amount on my invoice is wrong")
    page.locator("#channel-select").select_option("email")
    page.locator("#reply-text").fill("Sorry about that, Ana. I am fixing it now.")
    page.get_by_role("button", name="Send").click()
    expect(timeline.locator(".entry.outbound")).to_contain_text("fixing it now", timeout=LIVE)
    _wait(lambda: any(b"fixing it now" in raw for _, _, raw in live.sink.received))
    sent = [rcpts for _, rcpts, raw in live.sink.received if b"fixing it now" in raw]
    assert sent == [["ana@example.com"]]

    page.evaluate("window.__stayed = true")
    send_sms(live, "+14155550101", "Any update on the invoice?")
    expect(timeline.locator(".entry.inbound").last).to_contain_text(
        "Any update on the invoice?", timeout=LIVE
    )
    expect(timeline.locator(".switch").last).to_contain_text("to SMS")
    assert page.evaluate("window.__stayed") is True

    expect(page.locator("#channel-select")).to_have_value("sms")
    page.locator("#reply-text").fill("Yes: the corrected invoice is on its way.")
    expect(page.locator(".channel-info")).to_contain_text(re.compile(r"1 SMS segment"))
    page.keyboard.press("Control+Enter")
    expect(timeline.locator(".entry.outbound").last).to_contain_text("corrected invoice")
    _wait(
        lambda: any("corrected invoice" in (o["text"] or "") for o in outbox(live, "+14155550101"))
    )
    page.screenshot(path=ARTIFACTS / "conversation.png", full_page=True)


def test_a_message_arriving_while_the_agent_reads_the_conversation_is_read(
    page: Page, live: Live
) -> None:
    subject = f"Parcel {uuid.uuid4().hex[:6]} missing"
    send_email(live, "lee@example.com", subject, "My parcel never came.", name="Lee Chan")
    sign_in(page, live, live.desk.admin, "/inbox?view=all")
    page.locator("#rows .row", has_text=subject).locator("a.open").click()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("My parcel never came.")

    # The tab marks what arrives while it is shown as read, on its own.
    with page.expect_response(lambda r: r.url.endswith("/read"), timeout=LIVE) as marked:
        send_email(live, "lee@example.com", f"Re: {subject}", "Tracking says delivered, not here.")
        expect(timeline.locator(".entry.inbound").last).to_contain_text(
            "Tracking says delivered", timeout=LIVE
        )
    assert marked.value.status == 204
    # Back in the inbox, the row is not unread.
    page.goto(f"{live.url}/inbox?view=all")
    row = page.locator("#rows .row", has_text=subject)
    expect(row).to_be_visible()
    expect(row).not_to_have_class(re.compile(r"\bunread\b"))
