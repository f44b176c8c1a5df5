"""Working a conversation from the keyboard, and two agents on one conversation."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, Page, expect

from .conftest import ARTIFACTS, Live
from .support import send_email, sign_in

LIVE = 10_000


def _open_new_conversation(page: Page, live: Live, sender: str, subject: str) -> None:
    send_email(live, sender, subject, f"Hello, this is about {subject}.", name="Kim Lee")
    row = page.locator("#rows .row", has_text=subject)
    expect(row).to_be_visible(timeout=LIVE)
    row.locator("a.open").click()
    expect(page.locator("#timeline")).to_contain_text(f"this is about {subject}")


def test_note_assign_snooze_and_resolve_all_from_the_keyboard(page: Page, live: Live) -> None:
    sign_in(page, live, live.desk.admin, "/inbox?view=all")
    subject = f"Keyboard {uuid.uuid4().hex[:6]}"
    _open_new_conversation(page, live, f"kim.{uuid.uuid4().hex[:6]}@example.com", subject)
    timeline = page.locator("#timeline")

    page.locator("body").press("n")
    expect(page.locator("#reply-text")).to_be_focused()
    page.keyboard.type("Checked the ledger: the refund is not due yet.")
    page.keyboard.press("Control+Enter")
    note = timeline.locator(".entry.note").last
    expect(note).to_contain_text("refund is not due yet", timeout=LIVE)
    expect(note).to_contain_text("Internal note")

    page.locator("#reply-text").press("Escape")
    page.keyboard.press("a")
    expect(page.locator("#assign-select")).to_be_focused()
    page.locator("#assign-select").select_option(label="Cleo Park")
    expect(timeline).to_contain_text("assigned it to Cleo Park", timeout=LIVE)
    expect(page.locator("#assign-select")).to_have_value(f"user:{live.desk.cleo.id}")
    expect(page.locator("#assign-select")).not_to_be_focused()

    page.keyboard.press("s")
    expect(page.locator("#snooze-until")).to_be_focused()
    # The browser's wall time (Europe/Lisbon): a month ahead, well inside the bound.
    until = (datetime.now(UTC) + timedelta(days=30)).replace(hour=9, minute=30)
    page.locator("#snooze-until").fill(until.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#snooze-until").press("Enter")
    expect(page.locator("#convo-head")).to_contain_text("snoozed until", timeout=LIVE)
    expect(page.locator("#convo-head time[data-exact]")).to_contain_text(str(until.year))

    page.locator("body").press("e")
    expect(page.locator("#convo-head")).to_contain_text("resolved", timeout=LIVE)
    expect(timeline).to_contain_text("set the status to resolved")


@contextlib.contextmanager
def _two_agents(browser: Browser, live: Live, subject: str) -> Iterator[tuple[Page, Page]]:
    """Ava (admin) and Cleo, each in a browser of their own, on one new conversation."""
    ava_ctx, cleo_ctx = browser.new_context(), browser.new_context()
    ava, cleo = ava_ctx.new_page(), cleo_ctx.new_page()
    try:
        sign_in(ava, live, live.desk.admin, "/inbox?view=all")
        _open_new_conversation(ava, live, f"lee.{uuid.uuid4().hex[:6]}@example.com", subject)
        sign_in(cleo, live, live.desk.cleo, ava.url.removeprefix(live.url))
        expect(cleo.locator("#timeline")).to_contain_text(subject)
        yield ava, cleo
    finally:
        ava_ctx.close()
        cleo_ctx.close()


def test_two_agents_see_each_other_and_a_stale_reply_is_blocked_until_read(
    browser: Browser, live: Live
) -> None:
    subject = f"Collision {uuid.uuid4().hex[:6]}"
    with _two_agents(browser, live, subject) as (ava, cleo):
        # Presence: each sees the other in the conversation.
        expect(ava.locator("#viewers")).to_contain_text("Cleo Park is viewing", timeout=LIVE)
        expect(cleo.locator("#viewers")).to_contain_text("Ava Admin", timeout=LIVE)
        cleo.locator("#reply-text").fill("Typing a long answer")
        expect(ava.locator("#viewers")).to_contain_text("Cleo Park is typing", timeout=LIVE)

        # Ava answers first; Cleo's draft was written against the old timeline.
        ava.locator("#channel-select").select_option("email")
        ava.locator("#reply-text").fill("Ava here: sorted, thank you for waiting.")
        ava.get_by_role("button", name="Send").click()
        expect(cleo.locator("#timeline")).to_contain_text("Ava here: sorted", timeout=LIVE)
        expect(cleo.locator("#composer .stale")).to_be_visible()

        # Sending anyway is refused by the server, and the draft is kept.
        cleo.get_by_role("button", name="Send").click()
        expect(cleo.locator("#composer .stale")).to_be_visible()
        expect(cleo.locator("#reply-text")).to_have_value("Typing a long answer")
        assert (
            cleo.locator("#timeline .entry.outbound", has_text="Typing a long answer").count() == 0
        )
        ava.screenshot(path=ARTIFACTS / "collision.png", full_page=True)

        # Once Cleo has seen the new message, her reply goes.
        cleo.get_by_role("button", name="Show me").click()
        cleo.get_by_role("button", name="Send").click()
        expect(cleo.locator("#timeline .entry.outbound").last).to_contain_text(
            "Typing a long answer", timeout=LIVE
        )


def test_a_live_header_change_waits_until_the_agent_leaves_the_header(
    browser: Browser, live: Live
) -> None:
    with _two_agents(browser, live, f"Hands {uuid.uuid4().hex[:6]}") as (ava, cleo):
        # Ava is half-way through a snooze date when Cleo takes the conversation.
        ava.locator("#snooze-until").focus()
        ava.keyboard.type("0612")
        cleo.locator("#assign-select").select_option(label="Cleo Park (me)")
        expect(ava.locator("#timeline")).to_contain_text("assigned it to Cleo Park", timeout=LIVE)
        ava.wait_for_timeout(500)  # the header's refresh has reached her tab by now
        # Drawn again, the header would have taken her field (and its focus) away.
        expect(ava.locator("#snooze-until")).to_be_focused()
        expect(ava.locator("#assign-select")).to_have_value("none")

        # Once she leaves the header it is drawn again, with Cleo's assignment.
        ava.locator("#snooze-until").blur()
        expect(ava.locator("#assign-select")).to_have_value(
            f"user:{live.desk.cleo.id}", timeout=LIVE
        )
