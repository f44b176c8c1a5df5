"""core/redirect.py: a social inbox's redirect settings, the reply's words, and
whether a message gets one, as a table of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from threadline.core.model import Channel
from threadline.core.redirect import (
    DEFAULT_TEMPLATE,
    MAX_TEMPLATE,
    RedirectConfig,
    RedirectConfigError,
    link_token,
    parse_redirect_config,
    read_link,
    render_redirect,
    should_redirect,
)

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_no_settings_are_the_defaults_and_the_redirect_is_on() -> None:
    config = parse_redirect_config(None)
    assert config == RedirectConfig()
    assert config.enabled
    assert config.template == DEFAULT_TEMPLATE
    assert parse_redirect_config(config.as_config()) == config


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({"template": "Please go elsewhere"}, "must contain {link}"),
        ({"template": "Go {link} {secret}"}, "unknown placeholder {secret}"),
        ({"template": "{link} " + "x" * MAX_TEMPLATE}, "at most 600"),
        ({"template": 3}, "plain text"),
        ({"enabled": "yes"}, "true or false"),
        ({"chat_url": "http://shop.example/help"}, "https://"),
        ({"chat_url": "https://user@shop.example/"}, "without a user name"),
        ({"chat_url": "https://shop.example/help#x"}, "no fragment"),
        ({"offer_chat": False, "offer_email": False}, "offer the chat, email or both"),
        ({"colour": "red"}, "not a redirect setting"),
        ([], "an object"),
    ],
)
def test_settings_that_cannot_be_used_are_refused_with_the_reason(raw: object, says: str) -> None:
    with pytest.raises(RedirectConfigError, match=says.replace("{", r"\{").replace("}", r"\}")):
        parse_redirect_config(raw)


def test_an_empty_template_gets_the_default_and_control_characters_go() -> None:
    assert parse_redirect_config({"template": "  "}).template == DEFAULT_TEMPLATE
    cleaned = parse_redirect_config({"template": "Go\u202e to {link}\x00"}).template
    assert cleaned == "Go to {link}"


def test_the_reply_names_the_first_name_and_leaves_a_name_that_looks_like_a_placeholder() -> None:
    text = render_redirect(
        "Hi{name}: {link}", link="https://x.test/continue/1", name="Sheena Nelson"
    )
    assert text == "Hi Sheena: https://x.test/continue/1"
    assert render_redirect("Hi{name}: {link}", link="L", name=None) == "Hi: L"
    assert render_redirect("Hi{name}: {link}", link="L", name="{link}") == "Hi {link}: L"


@pytest.mark.parametrize(
    ("channel", "sensitive", "config", "last", "expected"),
    [
        (Channel.WHATSAPP, True, RedirectConfig(), None, True),
        (Channel.INSTAGRAM, True, RedirectConfig(), NOW - timedelta(hours=25), True),
        (Channel.TELEGRAM, True, RedirectConfig(), NOW - timedelta(hours=23), False),
        (Channel.MESSENGER, False, RedirectConfig(), None, False),
        (Channel.EMAIL, True, RedirectConfig(), None, False),
        (Channel.CHAT, True, RedirectConfig(), None, False),
        (Channel.WHATSAPP, True, RedirectConfig(enabled=False), None, False),
    ],
)
def test_who_gets_a_redirect(
    channel: Channel,
    sensitive: bool,
    config: RedirectConfig,
    last: datetime | None,
    expected: bool,
) -> None:
    ok, why = should_redirect(
        channel=channel, sensitive=sensitive, config=config, last_redirect_at=last, now=NOW
    )
    assert ok is expected, why


def test_a_link_token_names_its_redirect_until_it_expires_and_nothing_else() -> None:
    token = link_token(42, NOW + timedelta(hours=24), "secret")
    assert read_link(token, NOW, "secret") == (42, False)
    assert read_link(token, NOW + timedelta(hours=24), "secret") == (42, True)
    assert read_link(token, NOW, "another secret") is None
    rid, expires, mac = token.split(".")
    assert read_link(f"43.{expires}.{mac}", NOW, "secret") is None
    assert read_link(f"{rid}.{int(expires) + 1}.{mac}", NOW, "secret") is None
    assert read_link("x" * 101, NOW, "secret") is None
