"""Twilio Voice test helpers: recorded webhook forms, a voice inbox, agents on
duty, requests signed with Twilio's own RequestValidator, and TwiML read back."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
from tests.support.factories import make_inbox
from tests.support.twilio_forms import BASE, post_signed_form, recorded_form, twilio_signature

from threadline.bootstrap import Container
from threadline.web.app import create_app

FIXTURES = Path(__file__).parent / "fixtures"
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "5c8b3f1e9a7d4c2b6e0f1a2b3c4d5e6f"
OUR_NUMBER = "+14155550100"
ANA_PHONE = "+14155550101"
CALL_SID = "CAfe3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c"
RECORDING_SID = "RE5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a"
VOICE_URL = BASE + "/webhooks/twilio/voice"
STATUS_URL = VOICE_URL + "/status"  # the number's status callback, set in Twilio's console

WEEKDAYS = [["09:00", "17:00"]]
OFFICE_HOURS: dict[str, Any] = {
    "timezone": "Europe/Berlin",
    "days": {d: WEEKDAYS for d in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-12-25"],
}


def form(name: str, **changes: str | None) -> dict[str, str]:
    """A recorded Twilio form with fields changed; a None value drops the field."""
    return recorded_form(FIXTURES / f"{name}.json", changes)


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return twilio_signature(url, params, token)


def client_for(c: Container) -> httpx.AsyncClient:
    """httpx straight into the app, as uvicorn would call it.

    Not Litestar's test client: its transport puts the query string into the
    ASGI ``raw_path`` too, so a signed callback URL with a query would be read
    back with the query twice. httpx's transport follows the ASGI spec, as
    uvicorn does.
    """
    app = create_app(c, manage_lifecycle=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)


async def post_twilio(
    client: httpx.AsyncClient,
    url: str,
    params: dict[str, str],
    *,
    signature: str | None = None,
) -> httpx.Response:
    """POST a form to an absolute URL as Twilio would, signed unless told otherwise."""
    return await post_signed_form(client, url, params, token=AUTH_TOKEN, signature=signature)


async def make_voice_inbox(c: Container, **config: Any) -> int:
    config.setdefault("account_sid", ACCOUNT_SID)
    config.setdefault("auth_token", AUTH_TOKEN)
    return await make_inbox(c, "voice", "Acme Support", OUR_NUMBER, config)


def twiml(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    return root


def verbs(response: httpx.Response) -> list[str]:
    return [el.tag for el in twiml(response)]


def attr(response: httpx.Response, verb: str, name: str) -> str:
    el = twiml(response).find(verb)
    assert el is not None, response.text
    value = el.get(name)
    assert value is not None, f"<{verb}> has no {name}: {response.text}"
    return value
