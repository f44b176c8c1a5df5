"""Who a chat visitor is: a signed identity from the business's own page joins the
chat to that customer's history, and a page the inbox does not allow gets nothing."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from playwright.sync_api import BrowserContext, Page, expect

from threadline.core.chat_config import identity_hash
from threadline.storage.db import sync_url

from .chat import (
    LIVE,
    Console,
    NewContext,
    agent_entries,
    agent_page,
    bubbles,
    open_widget,
    say,
    shop_page,
)
from .conftest import ARTIFACTS, Live
from .seed import CHAT_KEY, CHAT_SECRET, DANA_EMAIL, DANA_SUBJECT, DANA_USER_ID


def test_a_signed_in_customer_chats_into_their_own_email_history(
    new_context: NewContext, live: Live, ben_signed_in: Path
) -> None:
    identity = {
        "user_id": DANA_USER_ID,
        "email": DANA_EMAIL,
        "name": "Dana Reyes",
        "hash": identity_hash(CHAT_SECRET, DANA_USER_ID, DANA_EMAIL),
    }
    visitor = new_context().new_page()
    console = Console.watch(visitor)
    visitor.goto(shop_page(live, "/account.html", setup={"identity": identity}))
    w = open_widget(visitor)
    expect(w.locator('[data-tl="prechat"]')).to_be_hidden()  # we know who this is
    text = f"Any news on order 4417? ({uuid.uuid4().hex[:6]})"
    say(visitor, text)
    expect(bubbles(visitor).first).to_have_attribute("data-state", "stored", timeout=LIVE)
    visitor.screenshot(path=ARTIFACTS / "widget-identified.png")

    agent, agent_console = agent_page(
        new_context, ben_signed_in, f"{live.url}/customers/{live.desk.dana}"
    )
    expect(agent.locator("#customer-name")).to_have_text("Dana Reyes")
    timeline = agent.locator("ol.timeline")
    expect(timeline.locator('.entry[data-channel="email"]')).to_contain_text("has not arrived")
    expect(timeline.locator('.entry[data-channel="chat"]')).to_contain_text(text)
    identities = agent.locator("aside.panel")
    expect(identities).to_contain_text(DANA_USER_ID)
    # The chat continued the open email conversation: one matter, two channels.
    agent.get_by_role("link", name=DANA_SUBJECT).click()
    expect(agent.locator("#timeline .entry.inbound")).to_have_count(2)
    expect(agent_entries(agent)).to_contain_text(text)
    agent.screenshot(path=ARTIFACTS / "widget-identified-agent.png", full_page=True)
    assert console.problems == []
    assert console.warnings == []
    assert agent_console.problems == []


def _counts(live: Live) -> tuple[int, int]:
    engine = sa.create_engine(sync_url(live.database_url))
    try:
        with engine.connect() as conn:
            visitors = conn.exec_driver_sql("SELECT count(*) FROM chat_visitors").scalar_one()
            customers = conn.exec_driver_sql("SELECT count(*) FROM customers").scalar_one()
    finally:
        engine.dispose()
    return int(visitors), int(customers)


class Statuses:
    """The HTTP status of each request the page made, read from the browser's own
    network log: a response that CORS hides from the page's script (and from
    Playwright's response events) still has its status there. The log's events
    for one request may come in any order, so they are joined by request id."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self._urls: dict[str, str] = {}
        self._statuses: dict[str, int] = {}
        cdp = context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.responseReceivedExtraInfo", self._extra)
        cdp.send("Network.enable")

    def _sent(self, e: dict[str, Any]) -> None:
        self._urls[e["requestId"]] = e["request"]["url"].split("?", 1)[0]

    def _response(self, e: dict[str, Any]) -> None:
        self._statuses[e["requestId"]] = int(e["response"]["status"])

    def _extra(self, e: dict[str, Any]) -> None:
        self._statuses[e["requestId"]] = int(e["statusCode"])

    def _find(self, url: str) -> int | None:
        found = [
            self._statuses[r] for r, u in self._urls.items() if u == url and r in self._statuses
        ]
        return found[-1] if found else None

    def of(self, page: Page, url: str) -> int | None:
        """The status of the last request to ``url`` (without its query), once the
        browser has reported it: its events come on their own channel, after the
        page may have moved on."""
        deadline = time.monotonic() + LIVE / 1000
        while self._find(url) is None and time.monotonic() < deadline:
            page.wait_for_timeout(50)  # lets Playwright deliver the events
        return self._find(url)


def test_a_page_on_an_origin_the_inbox_does_not_allow_gets_no_chat(
    new_context: NewContext, live: Live
) -> None:
    before = _counts(live)
    context = new_context()
    page = context.new_page()
    console = Console.watch(page)
    statuses = Statuses(context, page)
    stranger = shop_page(live, "/stranger.html").replace(live.site.origin, live.site.stranger)
    with page.expect_console_message(lambda m: m.text.startswith("Threadline widget")):
        page.goto(stranger)

    # The widget asked for its settings, was refused, said so, and drew nothing.
    expect(page.locator("[data-threadline]")).to_have_count(0)
    assert statuses.of(page, f"{live.url}/widget/config") == 403
    assert console.warnings == [
        "Threadline widget: no chat inbox here (unknown key, or this site is not allowed)"
    ]

    # The page's own script tries the doors the widget would use: all shut.
    ws_close, post = page.evaluate(
        """async ([app, key]) => {
            const ws = await new Promise((done) => {
                const s = new WebSocket(app.replace(/^http/, "ws") + "/widget/ws?inbox=" + key);
                s.onopen = () => done("open");
                s.onclose = (e) => done(e.code);
            });
            // A "simple" request, which no preflight stops: the server itself must refuse.
            const post = await fetch(app + "/widget/session", {
                method: "POST", mode: "no-cors",
                headers: {"Content-Type": "text/plain"},
                body: JSON.stringify({inbox: key}),
            }).then((r) => r.type, (e) => String(e));
            return [ws, post];
        }""",
        [live.url, CHAT_KEY],
    )
    assert ws_close == 1006  # never opened
    assert any("/widget/ws" in e and "response code: 403" in e for e in console.errors)
    assert post == "opaque"
    assert statuses.of(page, f"{live.url}/widget/session") == 403
    assert _counts(live) == before  # no visitor, no customer
    page.screenshot(path=ARTIFACTS / "widget-refused.png")
    assert console.problems == []
