"""Twilio's side of our webhooks, for the SMS and Voice tests: recorded webhook
forms, and forms POSTed as Twilio does, signed with Twilio's own RequestValidator."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

__all__ = ["BASE", "post_signed_form", "recorded_form", "twilio_signature"]

# What the test client requests, and so the URL Twilio would have signed.
BASE = "http://testserver.local"


def recorded_form(path: Path, changes: Mapping[str, str | None]) -> dict[str, str]:
    """A recorded Twilio form with fields changed; a None value drops the field."""
    data: dict[str, str] = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def twilio_signature(url: str, params: dict[str, str], token: str) -> str:
    return str(RequestValidator(token).compute_signature(url, params))


async def post_signed_form(
    client: httpx.AsyncClient,
    url: str,
    params: dict[str, str],
    *,
    token: str,
    signature: str | None = None,
) -> httpx.Response:
    """POST a form to an absolute URL under BASE as Twilio would, signed with
    ``token`` unless a ``signature`` is given."""
    assert url.startswith(BASE), url
    return await client.post(
        url.removeprefix(BASE),
        content=urlencode(params).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": (
                twilio_signature(url, params, token) if signature is None else signature
            ),
            "I-Twilio-Idempotency-Token": "e0f6f5a5-2b44-4c2b-9f43-0d3b9c2e6f11",
        },
    )
