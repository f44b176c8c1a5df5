"""End to end: mutated recorded payloads, signed as each provider signs them,
posted to a real uvicorn. None is answered with a 5xx, and every one the server
acknowledges (2xx) is stored or quarantined: a receipt row exists for it.

Receipts are cleared before each example, so a receipt found after it is this
payload's (a dedup against an earlier example's receipt cannot hide a loss).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.channels.meta.support import make_meta_inbox, meta_signature
from tests.channels.telegram.support import SECRET, make_telegram_inbox
from tests.channels.twilio_sms.support import make_sms_inbox
from tests.support.factories import make_agent, make_api_inbox
from tests.support.mutations import budget, form_bytes, mutated_form, mutated_json
from tests.support.twilio_forms import twilio_signature

from threadline.bootstrap import Container
from threadline.storage.tables import inbound_receipts

pytestmark = pytest.mark.anyio

CHANNELS = Path(__file__).parent.parent / "channels"
# Function-scoped fixtures are shared by the examples of one test, on purpose:
# one server and database per test, receipts cleared per example.
E2E = settings(max_examples=budget(6), suppress_health_check=[HealthCheck.function_scoped_fixture])


def _seeds(provider: str, *names: str) -> list[Any]:
    paths = [CHANNELS / provider / "fixtures" / f"{n}.json" for n in names] or sorted(
        (CHANNELS / provider / "fixtures").glob("*.json")
    )
    return [json.loads(p.read_text()) for p in paths]


async def _once(c: Container, name: str, make: Callable[[], Awaitable[Any]]) -> Any:
    """Per-test setup (an inbox, a token) made by the first example only."""
    made: dict[str, Any] = c.__dict__.setdefault("_fuzz_setup", {})
    if name not in made:
        made[name] = await make()
    return made[name]


async def _receipts(c: Container) -> int:
    return int(
        await c.db.read(
            lambda conn: conn.execute(
                sa.select(sa.func.count()).select_from(inbound_receipts)
            ).scalar_one()
        )
    )


async def _clear_receipts(c: Container) -> None:
    await c.db.write(lambda tx: tx.conn.execute(inbound_receipts.delete()))


async def _check(c: Container, post: Callable[[], Awaitable[httpx.Response]]) -> None:
    await _clear_receipts(c)
    response = await post()
    assert response.status_code < 500, response.text
    if response.is_success:
        assert await _receipts(c) >= 1, f"acknowledged ({response.status_code}) but not stored"


@E2E
@given(body=st.sampled_from(_seeds("telegram")).flatmap(mutated_json))
async def test_fuzzed_telegram_updates_are_stored_or_quarantined(
    container: Container, served: str, body: bytes
) -> None:
    inbox = await _once(container, "inbox", lambda: make_telegram_inbox(container))
    async with httpx.AsyncClient(base_url=served) as http:
        await _check(
            container,
            lambda: http.post(
                f"/webhooks/telegram/{inbox}",
                content=body,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            ),
        )


@E2E
@given(body=st.sampled_from(_seeds("meta")).flatmap(mutated_json))
async def test_fuzzed_meta_batches_are_stored_or_quarantined(
    container: Container, served: str, body: bytes
) -> None:
    async def inboxes() -> None:
        for channel in ("whatsapp", "messenger", "instagram"):
            await make_meta_inbox(container, channel)

    await _once(container, "inboxes", inboxes)
    async with httpx.AsyncClient(base_url=served) as http:
        await _check(
            container,
            lambda: http.post(
                "/webhooks/meta",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": meta_signature(body),
                },
            ),
        )


SMS = _seeds("twilio_sms", "inbound_sms", "inbound_mms")
STATUS = _seeds("twilio_sms", "status_delivered", "status_sent")


@E2E
@given(
    case=st.one_of(
        st.tuples(st.just("sms"), st.sampled_from(SMS).flatmap(mutated_form)),
        st.tuples(st.just("status"), st.sampled_from(STATUS).flatmap(mutated_form)),
    )
)
async def test_fuzzed_twilio_messaging_forms_are_stored_or_quarantined(
    container: Container, served: str, case: tuple[str, dict[str, str]]
) -> None:
    from tests.channels.twilio_sms.support import AUTH_TOKEN, OUR_NUMBER

    await _once(container, "inbox", lambda: make_sms_inbox(container))
    route, drawn = case
    # What Twilio can send: UTF-8 text (a lone surrogate cannot be signed or sent).
    form = {k: v.encode("utf-8", "replace").decode() for k, v in drawn.items()}
    # The inbox is found by our number: keep it, so the fuzzed form reaches the parser.
    form["To" if route == "sms" else "From"] = OUR_NUMBER
    url = f"{served}/webhooks/twilio/{route}"
    body = form_bytes(form)
    async with httpx.AsyncClient() as http:
        await _check(
            container,
            lambda: http.post(
                url,
                content=body,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": twilio_signature(url, form, AUTH_TOKEN),
                },
            ),
        )


API_SEEDS = [
    {
        "id": "order-svc-1842",
        "customer": {"external_id": "u42", "email": "ana@example.com"},
        "text": "Where is my refund?",
    },
    {
        "customer": {"email": "ana@example.com", "name": "Ana", "verified": False},
        "text": "hello",
        "subject": "Refund",
        "sent_at": "2026-01-31T09:00:00Z",
    },
]


# Bodies that are not UTF-8 or nest deeply included: web/bodies.py answers them 400
# before Litestar's decoder could fail with a 500.
@E2E
@given(body=st.sampled_from(API_SEEDS).flatmap(mutated_json))
async def test_fuzzed_api_messages_are_stored_quarantined_or_refused(
    container: Container, served: str, body: bytes
) -> None:
    async def setup() -> str:
        await make_api_inbox(container)
        _, token = await make_agent(container)
        return token

    token = await _once(container, "token", setup)
    async with httpx.AsyncClient(base_url=served) as http:
        await _check(
            container,
            lambda: http.post(
                "/api/v1/messages",
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            ),
        )


VOICE = {"": ("incoming_call",), "/dial-done": ("dial_done_completed", "dial_done_no_answer")}


@E2E
@given(
    case=st.sampled_from(sorted(VOICE)).flatmap(
        lambda route: st.tuples(
            st.just(route),
            st.sampled_from(_seeds("twilio_voice", *VOICE[route])).flatmap(mutated_form),
        )
    )
)
async def test_fuzzed_voice_calls_are_stored_or_quarantined_and_answered(
    container: Container, served: str, case: tuple[str, dict[str, str]]
) -> None:
    from tests.channels.twilio_voice.support import AUTH_TOKEN, OUR_NUMBER, make_voice_inbox

    await _once(container, "inbox", lambda: make_voice_inbox(container))
    route, drawn = case
    form = {k: v.encode("utf-8", "replace").decode() for k, v in drawn.items()}
    form["To"], form["Direction"] = OUR_NUMBER, "inbound"  # so the call reaches our inbox
    url = f"{served}/webhooks/twilio/voice{route}"
    async with httpx.AsyncClient() as http:
        await _check(
            container,
            lambda: http.post(
                url,
                content=form_bytes(form),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": twilio_signature(url, form, AUTH_TOKEN),
                },
            ),
        )
