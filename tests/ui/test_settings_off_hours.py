"""Settings → an inbox's hours: the off-hours reply and the contact-page listing,
as an admin's browser saves them."""

from __future__ import annotations

import pytest
from tests.support.factories import make_email_inbox
from tests.support.hours import HOURS
from tests.support.settings_ui import audit, signed_in_admin

from threadline.bootstrap import Container

pytestmark = pytest.mark.anyio


async def test_an_admin_turns_the_reply_on_with_a_link_and_a_text(
    container: Container, served: str
) -> None:
    c = container
    inbox_id = await make_email_inbox(c, hours=HOURS, auth_token="kept-secret")
    page = f"/settings/inboxes/{inbox_id}/calendar"
    async with signed_in_admin(c, served) as browser:
        before = await browser.get(page)
        assert "Send the off-hours reply" in before.text
        saved = await browser.post(
            f"/settings/inboxes/{inbox_id}/off-hours",
            {
                "enabled": "1",
                "help_url": "https://help.acme.test/",
                "text": "Back {expected}.",
            },
        )
        assert saved.status_code == 303
        shown = await browser.get(saved.headers["location"])
        assert "The off-hours reply was saved." in shown.text
        assert "Back {expected}." in shown.text
    inbox = await c.bus.inbox(inbox_id)
    assert inbox.config["off_hours_reply"] == {
        "enabled": True,
        "help_url": "https://help.acme.test/",
        "text": "Back {expected}.",
    }
    assert inbox.config["contact_page"] is False  # its box was left unticked
    assert inbox.config["auth_token"] == "kept-secret"  # the sealed secret survives
    assert inbox.config["hours"] == HOURS
    [entry] = await audit(c, "inbox.off_hours_reply")
    assert entry.subject == f"inbox:{inbox_id}"


async def test_a_link_that_is_not_a_web_address_is_refused_and_the_form_kept(
    container: Container, served: str
) -> None:
    c = container
    inbox_id = await make_email_inbox(c, hours=HOURS)
    async with signed_in_admin(c, served) as browser:
        refused = await browser.post(
            f"/settings/inboxes/{inbox_id}/off-hours",
            {"enabled": "1", "help_url": "javascript:alert(1)", "text": "Hi {expected}"},
        )
    assert refused.status_code == 422
    assert "http:// or https://" in refused.text
    assert "Hi {expected}" in refused.text
    assert "off_hours_reply" not in (await c.bus.inbox(inbox_id)).config
