"""Twilio SMS test helpers: recorded webhook forms, an SMS inbox, signing with
Twilio's own RequestValidator, and a scripted Twilio API for outbound tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient
from tests.support.factories import make_inbox
from tests.support.servers import read_body, respond
from tests.support.twilio_forms import BASE, post_signed_form, recorded_form, twilio_signature

from threadline.bootstrap import Container

FIXTURES = Path(__file__).parent / "fixtures"
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
OUR_NUMBER = "+14155550100"
ANA_PHONE = "+14155550101"


def form(name: str, **changes: str | None) -> dict[str, str]:
    """A recorded Twilio form with fields changed; a None value drops the field."""
    return recorded_form(FIXTURES / f"{name}.json", changes)


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return twilio_signature(url, params, token)


async def post_form(
    client: AsyncTestClient,  # type: ignore[type-arg]
    path: str,
    params: dict[str, str],
    *,
    signature: str | None = None,
    token: str = AUTH_TOKEN,
) -> Any:
    """POST a form as Twilio does, signed over the URL the client requests."""
    return await post_signed_form(client, f"{BASE}{path}", params, token=token, signature=signature)


async def make_sms_inbox(c: Container, number: str = OUR_NUMBER, **config: Any) -> int:
    config.setdefault("account_sid", ACCOUNT_SID)
    config.setdefault("auth_token", AUTH_TOKEN)
    config.setdefault("sandbox", True)
    return await make_inbox(c, "sms", "Acme SMS", number, config)


class ScriptedTwilio:
    """A Twilio API that answers what the test scripts (status, JSON or text)."""

    def __init__(self, *answers: tuple[int, Any]) -> None:
        self.answers = list(answers)
        self.requests: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        self.requests.append(await read_body(receive))
        status, answer = self.answers.pop(0)
        await respond(send, status, answer, text_type=b"text/html")
