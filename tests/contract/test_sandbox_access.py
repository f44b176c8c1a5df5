"""The provider stand-ins under /sandbox/ exist only in sandbox mode, and there they
accept only the credentials one of our sandbox inboxes holds."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from tests.channels.meta.support import ACCESS_TOKEN, PHONE_NUMBER_ID, WA_ID, make_meta_inbox
from tests.channels.telegram.support import BOT_TOKEN, make_telegram_inbox
from tests.channels.twilio_sms.support import (
    ACCOUNT_SID,
    ANA_PHONE,
    AUTH_TOKEN,
    OUR_NUMBER,
    make_sms_inbox,
)
from tests.support.factories import api_client

from threadline.bootstrap import Container, bootstrap
from threadline.clock import FakeClock
from threadline.settings import Settings
from threadline.storage.tables import sandbox_outbox

pytestmark = pytest.mark.anyio
TWILIO = f"/sandbox/twilio/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
SMS = {"To": ANA_PHONE, "From": OUR_NUMBER, "Body": "hi"}
META = f"/sandbox/meta/v26.0/{PHONE_NUMBER_ID}/messages"
WHATSAPP = {"messaging_product": "whatsapp", "to": WA_ID, "text": {"body": "hi"}}


def telegram(token: str) -> str:
    return f"/sandbox/telegram/bot{token}/sendMessage"


async def written(c: Container) -> list[Any]:
    return await c.db.read(lambda conn: conn.execute(sa.select(sandbox_outbox)).all())


async def send_all(
    api: httpx.AsyncClient, sid_token: tuple[str, str], bearer: str, bot: str
) -> list[int]:
    twilio = await api.post(TWILIO, data=SMS, auth=sid_token)
    meta = await api.post(META, json=WHATSAPP, headers={"Authorization": f"Bearer {bearer}"})
    tg = await api.post(telegram(bot), json={"chat_id": 1111111, "text": "hi"})
    return [twilio.status_code, meta.status_code, tg.status_code]


async def test_sandboxes_are_absent_in_production_mode(
    settings: Settings, clock: FakeClock
) -> None:
    c = bootstrap(settings.model_copy(update={"sandbox": False}), clock=clock)
    await c.start(jobs=False)
    try:
        await make_sms_inbox(c)
        await make_meta_inbox(c)
        await make_telegram_inbox(c)
        async with api_client(c) as api:
            statuses = await send_all(api, (ACCOUNT_SID, AUTH_TOKEN), ACCESS_TOKEN, BOT_TOKEN)
            # Nor the simulator, which plays customers through them.
            simulator = await api.get("/simulator")
        assert statuses == [404, 404, 404]
        assert simulator.status_code == 404
        assert await written(c) == []
    finally:
        await c.aclose()


async def test_sandboxes_refuse_credentials_no_sandbox_inbox_holds(container: Container) -> None:
    c = container
    await make_sms_inbox(c)
    await make_meta_inbox(c)
    await make_telegram_inbox(c)
    # A production inbox's credentials do not open the sandbox either.
    await make_sms_inbox(c, "+14155550177", account_sid="AC" + "9" * 32, sandbox=False)
    async with api_client(c) as api:
        anonymous = await api.post(TWILIO, data=SMS, auth=(ACCOUNT_SID, "wrong-token"))
        assert anonymous.status_code == 401
        assert anonymous.json()["code"] == 20003
        other = f"/sandbox/twilio/2010-04-01/Accounts/{'AC' + '9' * 32}/Messages.json"
        production = await api.post(other, data=SMS, auth=("AC" + "9" * 32, AUTH_TOKEN))
        assert production.status_code == 401
        wrong = await send_all(api, (ACCOUNT_SID, "0" * 32), "EAAG-forged", "999:AAH-forged")
        assert wrong == [401, 401, 401]
        assert await written(c) == []
        right = await send_all(api, (ACCOUNT_SID, AUTH_TOKEN), ACCESS_TOKEN, BOT_TOKEN)
    assert right == [201, 200, 200]
    assert len(await written(c)) == 3


def test_no_channel_imports_the_web_layer() -> None:
    """Channels are adapters below the web layer (docs/DESIGN.md §2)."""
    import ast
    from pathlib import Path

    import threadline.channels

    root = Path(threadline.channels.__file__).parent
    leaks = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "threadline.web"
            ):
                leaks.append(f"{path.relative_to(root)}: {node.module}")
    assert leaks == []
