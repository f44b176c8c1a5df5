"""The live-chat widget's browser tests' own parts: the shop's pages with the
snippet, the widget's pieces as locators (through its open shadow root), an
agent's conversation screen, and a watch on the console for what the widget
must never cause (a Content-Security-Policy refusal, an uncaught error).

The shop's pages are strict on purpose: a policy that allows scripts only from
the app (plus one nonce for the page's own setup) and styles only from the
shop itself, so a widget that injected a ``<style>`` or an inline handler would
be refused and caught here; and a stylesheet that tries to flatten or hide
everything, so a widget that leaned on the page's CSS would be seen broken.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, ConsoleMessage, Locator, Page, expect

from .conftest import Live
from .seed import CHAT_KEY

__all__ = [
    "LIVE",
    "Console",
    "NewContext",
    "agent_entries",
    "agent_page",
    "bubbles",
    "open_widget",
    "say",
    "shop_page",
    "widget",
]

LIVE = 15_000  # ms: a push, not a poll, but CI machines are slow

NewContext = Callable[..., BrowserContext]  # pytest-playwright's new_context fixture

HOSTILE_CSS = """
/* A page that resets and hides everything it can reach. */
* { all: unset; }
button { display: none !important; }
div { position: static !important; transform: scale(0.2) !important; opacity: 0.1 !important; }
textarea, input { visibility: hidden !important; }
body { display: block; margin: 2rem; font: 16px/1.5 Georgia, serif; color: #1f2937; }
h1 { display: block; font-size: 2rem; margin-bottom: 1rem; }
p { display: block; margin-bottom: 1rem; max-width: 40rem; }
head, script, style, title { display: none; }
"""


def shop_page(live: Live, path: str, *, setup: dict[str, Any] | None = None) -> str:
    """Put a shop page with the widget's snippet at ``path`` on the test site; its
    URL on the allowed origin. ``setup`` becomes ``window.ThreadlineWidget`` before
    the script loads (a signed identity, say)."""
    nonce = secrets.token_urlsafe(12)
    app, ws = live.url, re.sub(r"^http", "ws", live.url)
    policy = (
        f"default-src 'none'; script-src 'nonce-{nonce}' {app}; connect-src {app} {ws}; "
        f"style-src 'self'; img-src {app}; font-src 'none'; base-uri 'none'"
    )
    pre = ""
    if setup is not None:
        pre = f"<script nonce='{nonce}'>window.ThreadlineWidget = {json.dumps(setup)};</script>"
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme kettles</title>
<link rel="stylesheet" href="/hostile.css">
{pre}
<script src="{app}/widget.js" data-inbox="{CHAT_KEY}" async></script>
</head><body>
<h1>Acme kettles</h1>
<p>The blue kettle boils a litre in three minutes. Ask us anything in the chat.</p>
<div class="promo"><button type="button">Buy now</button></div>
</body></html>"""
    live.site.put("/hostile.css", HOSTILE_CSS, "text/css")
    live.site.put(path, html, "text/html; charset=utf-8", **{"Content-Security-Policy": policy})
    return live.site.origin + path


@dataclass
class Console:
    """What the page's console and error events said that the widget must never cause."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # the widget's own console.warn
    errors: list[str] = field(default_factory=list)  # every console error (refused loads too)

    @classmethod
    def watch(cls, page: Page) -> Console:
        seen = cls()
        page.on("console", seen._console)
        page.on("pageerror", lambda e: seen.problems.append(f"uncaught: {e}"))
        return seen

    def _console(self, message: ConsoleMessage) -> None:
        text = message.text
        if message.type == "error":
            self.errors.append(text)
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.problems.append(f"CSP: {text}")
        elif message.type == "error" and "Threadline" in text:
            self.problems.append(f"widget error: {text}")
        elif message.type == "warning" and text.startswith("Threadline widget"):
            self.warnings.append(text)


def agent_page(new_context: NewContext, state: Path, url: str) -> tuple[Page, Console]:
    """An agent's tab, signed in from ``state`` (see the ben_signed_in fixture), at
    ``url``; and the watch on its console."""
    page = new_context(storage_state=state).new_page()
    console = Console.watch(page)
    page.goto(url)
    expect(page.locator("body[data-user-id]")).to_be_attached()
    return page, console


def widget(page: Page) -> Locator:
    """The widget's root, inside its open shadow root (Playwright's CSS pierces it)."""
    return page.locator('[data-tl="root"]')


def open_widget(page: Page) -> Locator:
    w = widget(page)
    if w.locator('[data-tl="panel"]').is_hidden():
        w.locator('[data-tl="launcher"]').click()
    expect(w.locator('[data-tl="panel"]')).to_be_visible()
    return w


def say(visitor: Page, text: str) -> None:
    """The visitor types a message and presses Enter; the composer empties."""
    box = widget(visitor).locator('[data-tl="input"]')
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")


def bubbles(page: Page) -> Locator:
    """The chat's messages as the visitor sees them, in order."""
    return widget(page).locator('[data-tl="msg"]')


def agent_entries(page: Page) -> Locator:
    """A conversation's chat messages as the agent sees them, in order."""
    return page.locator('#timeline .entry[data-channel="chat"]')
