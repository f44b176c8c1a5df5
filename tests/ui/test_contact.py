"""The public contact page: every published inbox with its hours, its target in
plain words and whether it is open now, at a fixed clock, signed out."""

from __future__ import annotations

import html
import re

import pytest
from tests.support.factories import api_client, make_api_inbox, make_email_inbox, make_inbox
from tests.support.hours import HOURS, berlin

from threadline.actions.sla_policies import set_policy
from threadline.bootstrap import Container
from threadline.clock import FakeClock

pytestmark = pytest.mark.anyio


def text(page: str) -> str:
    """What a reader sees: the tags dropped, the spaces collapsed."""
    body = page.split('<main id="main">', 1)[1]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


async def seed(c: Container, hours: dict[str, object] = HOURS) -> None:
    await make_email_inbox(c, hours=hours)
    await make_inbox(c, "chat", "Site chat", "chat_acme", {"hours": hours})
    await make_inbox(c, "sms", "Texts", "+14155550100", {"auth_token": "twilio-secret"})
    await make_inbox(c, "whatsapp", "WA", "1234567890", {"access_token": "meta-secret"})
    await make_inbox(c, "telegram", "Bot", "acme_help_bot", {"bot_token": "123:tg-secret"})
    await make_api_inbox(c)
    await make_inbox(
        c, "email", "Internal", "ops@acme.test", {"contact_page": False, "hours": hours}
    )


async def contact(c: Container) -> tuple[str, str]:
    async with api_client(c) as web:
        answer = await web.get("/contact")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "public, max-age=60"
    return answer.text, text(answer.text)


async def test_open_hours_list_each_channel_with_its_promise(
    container: Container, clock: FakeClock
) -> None:
    await seed(container)
    clock.set(berlin("2026-12-01 10:00"))  # a Tuesday morning
    page, seen = await contact(container)
    assert seen.startswith("Contact ")
    assert (
        "Live chat Live chat on our website We answer chat within a minute, "
        "Mon–Fri 9:00–17:00 CET. Open now . Write to us and we'll answer within a minute."
    ) in seen
    assert (
        "Email support@acme.test We answer email within 4 business hours, "
        "Mon–Fri 9:00–17:00 CET. Open now . Write to us and we'll answer "
        "within 4 business hours."
    ) in seen
    assert "Text message +14155550100 We answer texts within 15 minutes, 24/7. Open now" in seen
    assert (
        "WhatsApp Our WhatsApp business account We answer WhatsApp messages within 2 hours, 24/7."
    ) in seen  # no display number is configured: the inbox's address is Meta's id
    assert "Telegram @acme_help_bot" in seen
    assert 'href="mailto:support@acme.test"' in page
    assert 'href="sms:+14155550100"' in page
    assert 'href="https://t.me/acme_help_bot"' in page
    # Only what is public: no secrets, no widget key, no API or hidden inbox.
    for private in ("secret", "chat_acme", "acme-app", "ops@acme.test", "1234567890"):
        assert private not in page
    order = [seen.index(t) for t in ("Live chat", "Text message", "WhatsApp", "Email", "Telegram")]
    assert order == sorted(order)


async def test_closed_hours_say_when_we_open_and_when_we_answer(
    container: Container, clock: FakeClock
) -> None:
    await seed(container)
    clock.set(berlin("2026-12-05 10:00"))  # a Saturday
    _, seen = await contact(container)
    assert (
        "We answer chat within a minute, Mon–Fri 9:00–17:00 CET. Closed · Opens Monday 9:00. "
        "Write to us and we'll answer soon after we open, Monday 9:00."
    ) in seen
    assert "Closed · Opens Monday 9:00. Write to us and we'll answer by Monday 13:00." in seen
    # a channel without a calendar is open around the clock
    assert "24/7. Open now" in seen


async def test_a_holiday_moves_the_opening_on(container: Container, clock: FakeClock) -> None:
    await seed(container, {**HOURS, "holidays": ["2026-12-25"]})
    clock.set(berlin("2026-12-24 18:00"))  # Thursday evening; Friday is a holiday
    _, seen = await contact(container)
    assert "Closed · Opens Monday 9:00" in seen
    assert "Opens tomorrow" not in seen


async def test_an_edited_target_is_what_the_page_promises(
    container: Container, clock: FakeClock
) -> None:
    await seed(container)
    clock.set(berlin("2026-12-01 10:00"))
    async with api_client(container) as web:
        before = text((await web.get("/contact")).text)
        await container.bus.execute(
            lambda tx: set_policy(
                tx,
                channel="email",
                priority="normal",
                kind="first_response",
                seconds=2 * 3600,
                business=True,
                warn_percent=80,
                actor_id=None,
            )
        )
        after = text((await web.get("/contact")).text)
    assert "We answer email within 4 business hours" in before
    assert "We answer email within 2 business hours" in after


async def test_with_no_inbox_the_page_says_so(container: Container) -> None:
    _, seen = await contact(container)
    assert "No contact channels are published yet." in seen


async def test_the_phone_card_asks_for_a_call_or_a_message_not_for_mail(
    container: Container, clock: FakeClock
) -> None:
    await make_inbox(
        container, "voice", "Phone", "+14155550111", {"auth_token": "tw", "hours": HOURS}
    )
    clock.set(berlin("2026-12-01 10:00"))  # open
    _, seen = await contact(container)
    assert "Open now . Call us, or leave a message and we'll call you back within" in seen
    clock.set(berlin("2026-12-05 10:00"))  # a Saturday
    _, seen = await contact(container)
    assert "Closed · Opens Monday 9:00. Leave a message and we'll call you back" in seen
    assert "Write to us" not in seen
