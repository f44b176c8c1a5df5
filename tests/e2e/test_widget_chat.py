"""A visitor on a business's own site chats with an agent, end to end: the widget
in a real browser on another origin than the app, the real server, and the
agent's live screens; through a network drop and a reload."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.sync_api import expect

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
    widget,
)
from .conftest import ARTIFACTS, Live


def test_a_visitor_on_another_site_chats_live_with_an_agent(
    new_context: NewContext, live: Live, ben_signed_in: Path
) -> None:
    agent, agent_console = agent_page(new_context, ben_signed_in, f"{live.url}/inbox?view=all")
    agent.evaluate("window.__stayed = true")  # a reload would lose it

    visitor = new_context().new_page()
    visitor.set_viewport_size({"width": 960, "height": 720})  # a small docs/widget.png
    console = Console.watch(visitor)
    visitor.goto(shop_page(live, "/kettles.html"))
    w = open_widget(visitor)
    expect(w.locator('[data-tl="title"]')).to_have_text("Acme on the web")
    expect(w.locator('[data-tl="status"]')).to_have_text("Online")
    # The page's CSS hides every button and textarea and shrinks and fades every div:
    # its own, not the widget's.
    expect(visitor.locator(".promo")).to_have_css("opacity", "0.1")
    expect(visitor.locator(".promo button")).to_be_hidden()
    host = visitor.locator("[data-threadline]")
    expect(host).to_have_css("opacity", "1")
    expect(host).to_have_css("transform", "none")
    expect(w.locator('[data-tl="send"]')).to_be_visible()
    expect(w.locator('[data-tl="input"]')).to_be_visible()
    panel = w.locator('[data-tl="panel"]').bounding_box()
    assert panel is not None
    assert panel["width"] >= 300
    w.locator('[data-tl="prechat-name"]').fill("Maya Lopez")
    w.locator('[data-tl="prechat-email"]').fill("maya@example.net")
    w.locator('[data-tl="prechat-submit"]').click()
    expect(w.locator('[data-tl="prechat"]')).to_be_hidden()
    say(visitor, "Hi! Is the blue kettle in stock?")
    expect(bubbles(visitor).first).to_have_attribute("data-state", "stored", timeout=LIVE)

    row = agent.locator("#rows .row", has_text="Is the blue kettle in stock?")
    expect(row).to_be_visible(timeout=LIVE)
    expect(row.locator(".who")).to_have_text("Maya Lopez")
    assert agent.evaluate("window.__stayed") is True
    row.locator("a.open").click()
    expect(agent_entries(agent)).to_have_count(1)
    agent.evaluate("window.__stayed = true")
    say(visitor, "I would need two of them.")
    expect(agent_entries(agent).last).to_contain_text("two of them", timeout=LIVE)

    expect(agent.locator("#channel-select")).to_have_value("chat")
    agent.locator("#reply-text").fill("Yes: we have 12 in stock, and both can ship today.")
    agent.get_by_role("button", name="Send").click()
    expect(agent_entries(agent)).to_have_count(3, timeout=LIVE)
    assert agent.evaluate("window.__stayed") is True

    answer = bubbles(visitor).last
    expect(answer).to_have_attribute("data-from", "agent", timeout=LIVE)
    expect(answer.locator('[data-tl="text"]')).to_have_text(
        "Yes: we have 12 in stock, and both can ship today."
    )
    expect(answer.locator('[data-tl="author"]')).to_have_text(live.desk.ben.name)
    expect(bubbles(visitor)).to_have_count(3)
    # The answer read the question, which came in while the page was open: "Seen".
    expect(bubbles(visitor).nth(1).locator('[data-tl="seen"]')).to_be_visible(timeout=LIVE)
    # The visitor's open widget read the answer: the agent's ticks say so.
    expect(agent.locator("#timeline .entry.outbound .ticks.read")).to_have_count(1, timeout=LIVE)
    visitor.screenshot(path=ARTIFACTS / "widget.png")
    agent.screenshot(path=ARTIFACTS / "chat-agent.png", full_page=True)
    assert console.problems == []
    assert console.warnings == []
    assert agent_console.problems == []


def test_messages_written_on_both_sides_during_a_drop_arrive_once_each_in_order(
    new_context: NewContext, live: Live, ben_signed_in: Path
) -> None:
    first = f"Hello, order {uuid.uuid4().hex[:6]} here"
    agent, agent_console = agent_page(new_context, ben_signed_in, f"{live.url}/inbox?view=all")
    visitor_ctx = new_context()
    visitor = visitor_ctx.new_page()
    console = Console.watch(visitor)
    visitor.goto(shop_page(live, "/drop.html"))
    w = open_widget(visitor)
    status = w.locator('[data-tl="status"]')
    say(visitor, first)
    expect(bubbles(visitor).first).to_have_attribute("data-state", "stored", timeout=LIVE)
    row = agent.locator("#rows .row", has_text=first)
    expect(row).to_be_visible(timeout=LIVE)
    row.locator("a.open").click()
    expect(agent_entries(agent)).to_have_count(1)

    visitor_ctx.set_offline(True)
    expect(status).to_have_text("Connecting…")
    say(visitor, "offline one")
    say(visitor, "offline two")
    for text in ("reply one", "reply two"):
        agent.locator("#reply-text").fill(text)
        agent.get_by_role("button", name="Send").click()
        expect(agent_entries(agent).last).to_contain_text(text, timeout=LIVE)
    expect(w.locator('[data-tl="msg"][data-state="sending"]')).to_have_count(2)
    expect(bubbles(visitor)).to_have_count(3)
    expect(agent_entries(agent)).to_have_count(3)
    visitor.screenshot(path=ARTIFACTS / "widget-offline.png")

    visitor_ctx.set_offline(False)
    expect(status).to_have_text("Online", timeout=LIVE)
    # The server's order: the replies were stored first, the visitor's messages on
    # reconnection, in the order typed; each exactly once on both sides.
    order = [first, "reply one", "reply two", "offline one", "offline two"]
    expect(agent_entries(agent).locator(".body")).to_have_text(order, timeout=LIVE)
    expect(bubbles(visitor).locator('[data-tl="text"]')).to_have_text(order, timeout=LIVE)
    expect(w.locator('[data-tl="msg"][data-state="stored"]')).to_have_count(5)
    assert console.problems == []
    assert console.warnings == []
    assert agent_console.problems == []


def test_a_reload_keeps_the_conversation_and_continues_it(
    new_context: NewContext, live: Live, ben_signed_in: Path
) -> None:
    first = f"Before the reload {uuid.uuid4().hex[:6]}"
    agent, agent_console = agent_page(new_context, ben_signed_in, f"{live.url}/inbox?view=all")
    visitor = new_context().new_page()
    console = Console.watch(visitor)
    visitor.goto(shop_page(live, "/reload.html"))
    open_widget(visitor)
    say(visitor, first)
    row = agent.locator("#rows .row", has_text=first)
    expect(row).to_be_visible(timeout=LIVE)
    row.locator("a.open").click()
    agent.locator("#reply-text").fill("An answer to keep")
    agent.get_by_role("button", name="Send").click()
    texts = bubbles(visitor).locator('[data-tl="text"]')
    expect(texts).to_have_text([first, "An answer to keep"], timeout=LIVE)

    visitor.reload()
    w = open_widget(visitor)
    expect(texts).to_have_text([first, "An answer to keep"])
    expect(w.locator('[data-tl="prechat"]')).to_be_hidden()  # the chat has begun
    say(visitor, "And after it")
    everything = [first, "An answer to keep", "And after it"]
    expect(texts).to_have_text(everything, timeout=LIVE)
    expect(agent_entries(agent).locator(".body")).to_have_text(everything, timeout=LIVE)
    expect(widget(visitor).locator('[data-tl="msg"][data-state="stored"]')).to_have_count(3)
    assert console.problems == []
    assert console.warnings == []
    assert agent_console.problems == []
