"""X-Twilio-Signature, checked against Twilio's own RequestValidator."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from threadline.channels.twilio.signature import (
    compute_signature,
    is_valid_signature,
    url_variants,
)

# The vector from twilio-python's tests/unit/test_request_validator.py.
TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
EXPECTED = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


class MultiDict(dict[str, list[str]]):
    """What a web framework hands the SDK for a form with repeated names."""

    def getall(self, name: str) -> list[str]:
        return self[name]


def test_twilio_documented_vector() -> None:
    assert compute_signature(TOKEN, URL, PARAMS.items()) == EXPECTED
    assert is_valid_signature(TOKEN, URL, PARAMS.items(), EXPECTED)


def test_any_change_breaks_the_signature() -> None:
    assert not is_valid_signature(TOKEN, URL, {**PARAMS, "Digits": "1235"}.items(), EXPECTED)
    assert not is_valid_signature(TOKEN, URL + "&x=1", PARAMS.items(), EXPECTED)
    assert not is_valid_signature(TOKEN, URL, [*PARAMS.items(), ("Extra", "")], EXPECTED)
    assert not is_valid_signature("54321", URL, PARAMS.items(), EXPECTED)
    assert not is_valid_signature("", URL, PARAMS.items(), EXPECTED)
    assert not is_valid_signature(TOKEN, URL, PARAMS.items(), "")


def test_url_with_or_without_the_default_port_validates() -> None:
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert url_variants(URL) == (URL, with_port)
    assert url_variants(with_port) == (URL, with_port)
    # Twilio signed without the port, we see it with one, and the other way round.
    assert is_valid_signature(TOKEN, with_port, PARAMS.items(), EXPECTED)
    signed_with_port = RequestValidator(TOKEN).compute_signature(with_port, PARAMS)
    assert is_valid_signature(TOKEN, URL, PARAMS.items(), signed_with_port)
    assert url_variants("http://127.0.0.1:8000/webhooks/twilio/sms") == (
        "http://127.0.0.1/webhooks/twilio/sms",
        "http://127.0.0.1:8000/webhooks/twilio/sms",
    )


names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12)
values = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)


@given(token=st.text(min_size=1, max_size=40), params=st.dictionaries(names, values, max_size=8))
def test_same_signature_as_the_sdk(token: str, params: dict[str, str]) -> None:
    url = "https://acme.test/webhooks/twilio/sms?tenant=acme"
    sdk = RequestValidator(token).compute_signature(url, params)
    assert compute_signature(token, url, params.items()) == sdk
    assert is_valid_signature(token, url, params.items(), sdk)


@given(params=st.dictionaries(names, st.lists(values, min_size=1, max_size=3), max_size=5))
def test_repeated_names_sign_like_the_sdk(params: dict[str, list[str]]) -> None:
    url = "https://acme.test/webhooks/twilio/status"
    pairs: list[tuple[str, Any]] = [(k, v) for k, vs in params.items() for v in vs]
    sdk = RequestValidator("tok").compute_signature(url, MultiDict(params))
    assert compute_signature("tok", url, pairs) == sdk
