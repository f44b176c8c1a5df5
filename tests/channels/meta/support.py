"""Meta test helpers: recorded payloads, signing as Meta does, Meta inboxes, a fake Graph API.

There is no official Meta SDK for Python (Meta's own is the Node `whatsapp`
package), so requests are signed the way Meta documents it: the hex
HMAC-SHA256 of the raw body with the app secret, in X-Hub-Signature-256,
computed here with the standard library independently of our own code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.support.factories import make_inbox
from tests.support.servers import read_body, respond

from threadline.bootstrap import Container

FIXTURES = Path(__file__).parent / "fixtures"
APP_SECRET = "e7f1d2c3b4a5968778695a4b3c2d1e0f"
VERIFY_TOKEN = "threadline-meta-verify"
ACCESS_TOKEN = "EAAGm0PX4ZCpsBAtest-system-user-token"
PHONE_NUMBER_ID = "106540352242922"  # the business number in the WhatsApp fixtures
PAGE_ID = "104360982531017"
IG_ID = "17841405822304914"
WA_ID = "16505551234"
PSID = "6934502429934822"
IGSID = "1051183799381046"
ADDRESSES = {"whatsapp": PHONE_NUMBER_ID, "messenger": PAGE_ID, "instagram": IG_ID}


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def raw(data: Any) -> bytes:
    # ensure_ascii, as Meta sends it: non-ASCII text arrives as \\u escapes.
    return json.dumps(data).encode()


def meta_signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post_meta(client: Any, data: Any, *, secret: str = APP_SECRET) -> Any:
    body = data if isinstance(data, bytes) else raw(data)
    return await client.post(
        "/webhooks/meta",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": meta_signature(body, secret),
        },
    )


async def make_meta_inbox(c: Container, channel: str = "whatsapp", **config: Any) -> int:
    config.setdefault("app_secret", APP_SECRET)
    config.setdefault("verify_token", VERIFY_TOKEN)
    config.setdefault("access_token", ACCESS_TOKEN)
    config.setdefault("sandbox", True)
    address = config.pop("address", ADDRESSES[channel])
    return await make_inbox(c, channel, f"Acme {channel}", address, config)


class FakeGraph:
    """A Graph API that answers what a test tells it to, and records what it got:
    for the error answers the sandbox never gives."""

    def __init__(self) -> None:
        self.answer: tuple[int, dict[str, Any]] = (200, {})
        self.requests: list[tuple[str, dict[str, str], Any]] = []

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        assert scope["type"] == "http"
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append((scope["path"], headers, json.loads(await read_body(receive))))
        status, payload = self.answer
        await respond(send, status, payload)
