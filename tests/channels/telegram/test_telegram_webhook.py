"""The Telegram webhook end to end: secret token, dedup, quarantine, continuity."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from tests.channels.telegram.support import (
    ADA,
    fixture,
    make_telegram_inbox,
    post_update,
    update,
)
from tests.support.factories import (
    api_client,
    deliver_email,
    make_email,
    make_email_inbox,
    timeline,
)

from threadline.actions.customers import add_identity
from threadline.core.model import IdentityRef
from threadline.storage.tables import identities, inbound_receipts, messages

pytestmark = pytest.mark.anyio


async def rows(c: Any, table: Any) -> list[Any]:
    return await c.db.read(lambda conn: conn.execute(sa.select(table).order_by(table.c.id)).all())


async def test_private_message_becomes_a_conversation(container: Any) -> None:
    c = container
    inbox_id = await make_telegram_inbox(c)
    async with api_client(c) as client:
        r = await post_update(client, inbox_id, fixture("private_text"))
    assert r.status_code == 200
    assert r.json() == {"ok": True}
    [msg] = await rows(c, messages)
    assert (msg.channel, msg.direction, msg.text) == (
        "telegram",
        "inbound",
        "Hello, I need help with invoice 42",
    )
    assert msg.provider_message_id == "tg:1111111:1365"
    assert msg.meta["sender_name"] == "Ada"
    [identity] = await rows(c, identities)
    assert (identity.kind, identity.value, identity.verified) == ("telegram", ADA, True)
    entries = await timeline(c, msg.customer_id)
    assert [e["message"]["text"] for e in entries if e["kind"] == "message"] == [msg.text]


@pytest.mark.parametrize("secret", ["wrong-token", None, ""])
async def test_bad_or_missing_secret_token_is_refused(container: Any, secret: str | None) -> None:
    c = container
    inbox_id = await make_telegram_inbox(c)
    async with api_client(c) as client:
        r = await post_update(client, inbox_id, fixture("private_text"), secret=secret)
    assert r.status_code == 403
    assert await rows(c, inbound_receipts) == []


async def test_inbox_without_a_secret_token_accepts_nothing(container: Any) -> None:
    c = container
    inbox_id = await make_telegram_inbox(c, secret_token="")
    async with api_client(c) as client:
        r = await post_update(client, inbox_id, fixture("private_text"), secret="")
    assert r.status_code == 403
    assert await rows(c, messages) == []


async def test_unknown_or_non_telegram_inbox_is_404(container: Any) -> None:
    c = container
    email_inbox = await make_email_inbox(c)
    async with api_client(c) as client:
        assert (await post_update(client, 999, fixture("private_text"))).status_code == 404
        assert (await post_update(client, email_inbox, fixture("private_text"))).status_code == 404
    assert await rows(c, inbound_receipts) == []


async def test_repeated_update_is_stored_once(container: Any) -> None:
    c = container
    inbox_id = await make_telegram_inbox(c)
    async with api_client(c) as client:
        first = await post_update(client, inbox_id, fixture("private_text"))
        again = await post_update(client, inbox_id, fixture("private_text"))
        # a new update_id is a new message, even with the same text
        other = await post_update(client, inbox_id, update("private_text", update_id=10010))
    assert [r.status_code for r in (first, again, other)] == [200, 200, 200]
    assert [r.provider_message_id for r in await rows(c, inbound_receipts)] == [
        "update:10000",
        "update:10010",
    ]
    assert len(await rows(c, messages)) == 2


async def test_malformed_update_is_quarantined_and_acknowledged(container: Any) -> None:
    c = container
    inbox_id = await make_telegram_inbox(c)
    async with api_client(c) as client:
        r = await post_update(client, inbox_id, b'{"message": {"text": "no update_id"}}')
    assert r.status_code == 200  # else Telegram retries a payload that can never work
    [receipt] = await rows(c, inbound_receipts)
    assert receipt.status == "quarantined"
    assert "update_id" in receipt.error
    assert await rows(c, messages) == []


@pytest.mark.parametrize("name", ["edited_message", "group_message"])
async def test_edits_and_group_messages_are_kept_but_not_shown(container: Any, name: str) -> None:
    c = container
    inbox_id = await make_telegram_inbox(c)
    async with api_client(c) as client:
        r = await post_update(client, inbox_id, fixture(name))
        again = await post_update(client, inbox_id, fixture(name))
    assert (r.status_code, again.status_code) == (200, 200)
    [receipt] = await rows(c, inbound_receipts)
    assert receipt.status == "ignored"
    assert receipt.provider_message_id.startswith("update:")
    assert await rows(c, messages) == []


async def test_known_customer_continues_their_open_conversation(container: Any) -> None:
    c = container
    email_inbox = await make_email_inbox(c)
    inbox_id = await make_telegram_inbox(c)
    raw, _ = make_email(body="Invoice 42 charges me twice.")
    first = await deliver_email(c, email_inbox, raw)
    assert first.customer_id is not None
    await c.bus.execute(
        lambda tx: add_identity(tx, first.customer_id, IdentityRef("telegram", ADA))
    )
    async with api_client(c) as client:
        r = await post_update(client, inbox_id, fixture("private_text"))
    assert r.status_code == 200
    msgs = await rows(c, messages)
    assert [(m.channel, m.conversation_id, m.customer_id) for m in msgs] == [
        ("email", first.conversation_id, first.customer_id),
        ("telegram", first.conversation_id, first.customer_id),
    ]
    kinds = [e["kind"] for e in await timeline(c, first.customer_id)]
    assert kinds[-2:] == ["channel_switched", "message"]
