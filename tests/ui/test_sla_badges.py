"""What an agent sees of SLA timers: the inbox sorted by the reply due soonest, a
badge per row (due, due soon, overdue), and on the conversation its clock in the
header and the warning and breach on the timeline."""

from __future__ import annotations

import re

import pytest
from tests.support.factories import (
    api_client,
    deliver_email,
    make_api_inbox,
    make_email,
    make_inbox,
)
from tests.support.hours import HOURS, berlin
from tests.support.inbox import write
from tests.support.ui import make_user, sign_in

from threadline.bootstrap import Container
from threadline.clock import FakeClock

pytestmark = pytest.mark.anyio


def _rows(html: str) -> list[tuple[int, str | None]]:
    """Each inbox row's conversation id and its SLA badge's state, in page order."""
    found = []
    for m in re.finditer(r'<li class="row[^"]*" id="c-(\d+)".*?</li>', html, re.S):
        badge = re.search(r'data-sla="(\w+)"', m[0])
        found.append((int(m[1]), badge[1] if badge else None))
    return found


async def test_the_inbox_sorts_by_reply_due_and_badges_warnings_and_breaches(
    container: Container, clock: FakeClock
) -> None:
    c = container
    email = await make_inbox(
        c, "email", "Support", "support@acme.test", {"webhook_secret": "s", "hours": HOURS}
    )
    api = await make_api_inbox(c)  # no hours: 4 h of calendar time
    await make_user(c, "sam@acme.test")

    clock.set(berlin("2026-12-04 16:00"))  # Friday: the email is due Monday 12:00
    raw, _ = make_email(body="Where is my parcel?")
    mail = (await deliver_email(c, email, raw)).conversation_id
    clock.set(berlin("2026-12-04 17:00"))  # later, but due sooner: 21:00
    app = (await write(c, api, "ana", "My card was charged twice")).conversation_id
    assert mail is not None
    assert app is not None

    async with api_client(c) as client:
        assert (await sign_in(client, "sam@acme.test")).status_code in (302, 303)
        page = await client.get("/inbox?view=all&sort=due")
        assert _rows(page.text) == [(app, "running"), (mail, "running")]
        page = await client.get("/inbox?view=all&sort=waiting")
        assert [cid for cid, _ in _rows(page.text)] == [mail, app]

        clock.set(berlin("2026-12-04 20:45"))
        assert await c.runner.run_due() == 1
        page = await client.get("/inbox?view=all&sort=due")
        assert _rows(page.text) == [(app, "warning"), (mail, "running")]
        assert "reply due soon" in page.text

        clock.set(berlin("2026-12-04 21:00"))
        assert await c.runner.run_due() == 1
        page = await client.get("/inbox?view=all&sort=due")
        assert _rows(page.text) == [(app, "breached"), (mail, "running")]
        assert (
            'reply overdue: was due <time datetime="2026-12-04T20:00:00+00:00" data-due>'
            in page.text
        )

        convo = await client.get(f"/conversations/{app}")
    head = convo.text[convo.text.index('id="convo-head"') : convo.text.index('id="timeline"')]
    assert 'data-sla="breached"' in head
    assert "First response due in 15 min" in convo.text
    assert "First response target missed: it was due 2026-12-04 20:00 UTC" in convo.text
