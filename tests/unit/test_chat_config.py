"""A chat inbox's config as a table of cases: what an admin types, what is kept,
what is refused and why, and what the widget's public config shows."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from threadline.core.chat_config import (
    CHAT_KEYS,
    DEFAULT_COLOR,
    DEFAULT_GREETING,
    ChatConfig,
    ChatConfigError,
    identity_hash,
    identity_matches,
    normalize_origin,
    origin_allowed,
    parse_chat_config,
)

SECRET = "test-secret-with-32-characters-ok"


def test_an_empty_config_gets_every_documented_default_and_a_fresh_secret() -> None:
    one, two = parse_chat_config({}), parse_chat_config({})
    assert (one.allowed_origins, one.color, one.greeting) == ((), DEFAULT_COLOR, DEFAULT_GREETING)
    assert (one.avatar_url, one.position, one.prechat) == ("", "right", "optional")
    assert one.followup_inbox_id is None
    assert len(one.identity_secret) >= 32
    assert one.identity_secret != two.identity_secret
    assert set(one.as_config()) == set(CHAT_KEYS)


def test_a_stored_config_reads_back_as_itself() -> None:
    config = parse_chat_config(
        {
            "allowed_origins": ["https://shop.example"],
            "color": "#112233",
            "greeting": "Hello",
            "avatar_url": "https://cdn.example/a.png",
            "position": "left",
            "prechat": "required",
            "identity_secret": SECRET,
            "followup_inbox_id": 4,
        }
    )
    assert parse_chat_config(config.as_config()) == config


# (typed, as the browser sends it)
ORIGINS = [
    ("https://shop.example", "https://shop.example"),
    ("  https://Shop.Example/  ", "https://shop.example"),
    ("https://shop.example:443", "https://shop.example"),
    ("https://shop.example:8443", "https://shop.example:8443"),
    ("HTTPS://SHOP.EXAMPLE", "https://shop.example"),
    ("https://bücher.example", "https://xn--bcher-kva.example"),
    ("https://faß.de", "https://xn--fa-hia.de"),  # IDNA 2008, as browsers do, not "fass.de"
    ("http://localhost:3000", "http://localhost:3000"),
    ("http://127.0.0.1:80", "http://127.0.0.1"),
    ("http://[0:0::1]:8080", "http://[::1]:8080"),
    ("https://203.0.113.9", "https://203.0.113.9"),
    ("https://a_b.example", "https://a_b.example"),
]


@pytest.mark.parametrize(("typed", "sent"), ORIGINS)
def test_an_origin_is_kept_as_the_browser_spells_it(typed: str, sent: str) -> None:
    assert normalize_origin(typed) == sent
    config = parse_chat_config({"allowed_origins": [typed]})
    assert config.allowed_origins == (sent,)
    assert origin_allowed(config, sent)


# (typed, the words the error must contain)
BAD_ORIGINS = [
    ("http://shop.example", "use https"),
    ("https://*.shop.example", "no wildcards"),
    ("*", "no wildcards"),
    ("https://shop.example/chat", "no path"),
    ("https://shop.example?a=1", "no path, query"),
    ("https://shop.example#x", "no path, query"),
    ("https://ana:pw@shop.example", "no user name or password"),
    ("https://ana@shop.example", "no user name or password"),
    ("shop.example", "is not scheme://host"),
    ("ftp://shop.example", "an origin is https://"),
    ("null", "is not scheme://host"),
    ("https://", "the host is missing"),
    ("https://shop.example:0", "the port is a number"),
    ("https://shop.example:99999", "the port is a number"),
    ("https://shop.example:", "the port is a number"),
    ("https://sh op.example", "not a valid host name"),
    ("https://shop..example", "not a valid host name"),
    ("https://-shop.example", "not a valid host name"),
    ("https://shop.example.", "not a valid host name"),
    ("https://300.1.1.1", "not a valid IPv4 address"),
    ("https://[::1%eth0]", "not an IPv6 address"),
    ("https://[nope]", "not an IPv6 address"),
    ("https://a\u200d.example", "not a valid international host name"),
    ("", "1 to 300 characters"),
    ("https://" + "a" * 300 + ".example", "1 to 300 characters"),
]


@pytest.mark.parametrize(("typed", "said"), BAD_ORIGINS)
def test_a_bad_origin_is_refused_with_the_reason(typed: str, said: str) -> None:
    with pytest.raises(ChatConfigError, match="allowed origins: .*" + said):
        parse_chat_config({"allowed_origins": [typed]})


def test_origins_are_deduplicated_and_bounded() -> None:
    same = ["https://a.example", "https://A.example:443/", "https://b.example"]
    assert parse_chat_config({"allowed_origins": same}).allowed_origins == (
        "https://a.example",
        "https://b.example",
    )
    many = [f"https://s{i}.example" for i in range(21)]
    with pytest.raises(ChatConfigError, match="at most 20, got 21"):
        parse_chat_config({"allowed_origins": many})
    with pytest.raises(ChatConfigError, match="a list of"):
        parse_chat_config({"allowed_origins": "https://a.example"})


def test_only_an_exact_origin_on_the_list_may_use_the_widget() -> None:
    config = parse_chat_config({"allowed_origins": ["https://shop.example"]})
    assert origin_allowed(config, "https://shop.example")
    assert origin_allowed(config, "https://SHOP.example:443")  # the same origin, spelled otherwise
    for other in (
        None,
        "",
        "null",
        "http://shop.example",
        "https://shop.example:8443",
        "https://evil.shop.example",
        "https://shop.example.evil.example",
        "https://shopXexample",
    ):
        assert not origin_allowed(config, other), other
    assert not origin_allowed(parse_chat_config({}), "https://shop.example")  # empty: none


def test_our_own_public_origin_is_allowed_only_when_the_server_passes_it() -> None:
    config = parse_chat_config({"allowed_origins": ["https://shop.example"]})
    assert not origin_allowed(config, "https://desk.acme.example")
    assert origin_allowed(config, "https://desk.acme.example", also=["https://desk.acme.example/"])
    # Our own address may be plain http (a desk on a private network); the typed
    # list may not, but the comparison of what a browser sent still works.
    assert origin_allowed(config, "http://desk.lan:8000", also=["http://desk.lan:8000"])
    assert not origin_allowed(config, "http://desk.lan:8000", also=["not an origin"])
    # The public address as configured, path and all: its origin is what counts.
    assert origin_allowed(config, "https://acme.example", also=["https://Acme.example:443/desk"])
    assert not origin_allowed(config, "https://acme.example.evil", also=["https://acme.example"])


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ({"color": "blue"}, "color: a hex color"),
        ({"color": "#12345"}, "color: a hex color"),
        ({"color": 0x123456}, "color: a hex color"),
        ({"greeting": "x" * 301}, "greeting: at most 300 characters, got 301"),
        ({"greeting": "x" * 5000}, "greeting: at most 300 characters"),
        ({"greeting": ["hi"]}, "greeting: plain text"),
        ({"avatar_url": "http://cdn.example/a.png"}, "avatar URL: must start with https://"),
        ({"avatar_url": "javascript:alert(1)"}, "avatar URL: must start with https://"),
        ({"avatar_url": "https://cdn.example/a b.png"}, "must be percent-encoded"),
        ({"avatar_url": 'https://cdn.example/a".png'}, "must be percent-encoded"),
        ({"avatar_url": "https://cdn.example/" + "a" * 500}, "at most 500 characters"),
        ({"avatar_url": "https://u:p@cdn.example/a.png"}, "without a user name"),
        ({"avatar_url": "https:///a.png"}, "without a user name"),
        ({"position": "top"}, "position: one of right, left"),
        ({"prechat": "always"}, "prechat: one of off, optional, required"),
        ({"prechat": 1}, "prechat: one of"),
        ({"identity_secret": "short"}, "identity secret: 32 to 256"),
        ({"identity_secret": "x" * 31 + " "}, "identity secret: 32 to 256"),
        ({"identity_secret": 12345}, "identity secret"),
        ({"followup_inbox_id": "3"}, "follow-up inbox"),
        ({"followup_inbox_id": True}, "follow-up inbox"),
        ({"followup_inbox_id": 0}, "follow-up inbox"),
    ],
)
def test_a_bad_setting_is_refused_with_its_name(raw: dict[str, Any], said: str) -> None:
    with pytest.raises(ChatConfigError, match=said):
        parse_chat_config(raw)


def test_the_greeting_is_plain_text_without_control_characters() -> None:
    typed = "  Hi\u0000 there!\r\nAsk us\u202e anything \u0007 "
    assert parse_chat_config({"greeting": typed}).greeting == "Hi there!\nAsk us anything"
    assert (
        parse_chat_config({"greeting": "<b>Hi</b> 👋🏽"}).greeting == "<b>Hi</b> 👋🏽"
    )  # escaped at display
    assert parse_chat_config({"greeting": " \u0000 "}).greeting == DEFAULT_GREETING
    assert parse_chat_config({"greeting": "é" * 300}).greeting == "é" * 300


def test_choices_and_colors_are_read_in_any_case() -> None:
    config = parse_chat_config({"color": "#AABBCC", "position": " Left ", "prechat": "OFF"})
    assert (config.color, config.position, config.prechat) == ("#aabbcc", "left", "off")


def test_the_public_config_shows_the_branding_and_never_a_secret() -> None:
    config = parse_chat_config(
        {
            "allowed_origins": ["https://shop.example"],
            "identity_secret": SECRET,
            "followup_inbox_id": 3,
            "avatar_url": "https://cdn.example/a.png",
        }
    )
    assert config.public() == {
        "color": DEFAULT_COLOR,
        "greeting": DEFAULT_GREETING,
        "avatar_url": "https://cdn.example/a.png",
        "position": "right",
        "prechat": "optional",
    }
    assert SECRET not in repr(config)


def test_other_keys_of_the_inbox_config_are_not_the_chat_parsers_business() -> None:
    hours = {"timezone": "Europe/Berlin", "days": {}}
    assert parse_chat_config({"hours": hours, "color": "#000000"}).color == "#000000"


def test_the_identity_hash_is_the_documented_hmac() -> None:
    # printf 'u42\nana@example.com' | openssl dgst -sha256 -hmac "$SECRET"
    expected = "238ce063945a1f5c320708f4aa892666b8886af8aa29167e95fd263c4c370fee"
    assert identity_hash(SECRET, "u42", "ana@example.com") == expected
    assert identity_matches(SECRET, "u42", "ana@example.com", expected)
    assert identity_matches(SECRET, "u42", "ana@example.com", expected.upper())
    assert not identity_matches(SECRET, "u42", "bo@example.com", expected)
    assert not identity_matches(
        "another-secret-of-32-characters-x", "u42", "ana@example.com", expected
    )
    assert not identity_matches(SECRET, "u42", "ana@example.com", expected[:-1])
    assert not identity_matches(SECRET, "u42", "ana@example.com", "é" * 64)
    # "u\n42" + "x" would sign the same bytes as "u" + "42\nx": refused.
    forged = identity_hash(SECRET, "u", "42\nana@example.com")
    assert not identity_matches(SECRET, "u\n42", "ana@example.com", forged)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=25) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=30,
)
ORIGIN_TEXT = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda scheme, host, tail: f"{scheme}://{host}{tail}",
        st.sampled_from(["https", "http", "HTTPS", "ftp", ""]),
        st.text(max_size=30),
        st.sampled_from(["", "/", ":443", ":8080/", ":x", "/p", "?q"]),
    ),
)


@given(
    st.dictionaries(
        st.sampled_from([*CHAT_KEYS, "hours", "other"]),
        JSON | ORIGIN_TEXT | st.lists(ORIGIN_TEXT, max_size=22),
    )
)
def test_the_parser_returns_a_config_or_raises_its_own_error(raw: dict[str, Any]) -> None:
    try:
        config = parse_chat_config(raw)
    except ChatConfigError:
        return
    assert isinstance(config, ChatConfig)
    assert parse_chat_config(config.as_config()) == config  # what it keeps, it accepts again


@given(ORIGIN_TEXT)
def test_an_origin_normalizes_to_a_fixed_point_or_is_refused(typed: str) -> None:
    try:
        origin = normalize_origin(typed)
    except ChatConfigError:
        return
    assert normalize_origin(origin) == origin
    assert origin == origin.lower()
    assert origin_allowed(ChatConfig(allowed_origins=(origin,)), origin)
