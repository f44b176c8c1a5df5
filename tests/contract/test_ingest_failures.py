"""No payload stops ingest: whatever a parser or the processing raises ends in a
durable quarantine with its reason, and only a storage failure reaches the edge
(as 503, so the provider retries). On SQLite and PostgreSQL."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping, Sequence
from typing import Any

import anyio.to_thread
import httpx
import pytest
import sqlalchemy as sa
from tests.channels.telegram.support import SECRET, make_telegram_inbox, update
from tests.support.factories import make_agent, make_api_inbox, make_email, make_email_inbox
from tests.support.servers import free_port

from threadline.actions.errors import ActionError
from threadline.actions.receipts import Payload
from threadline.bootstrap import Container
from threadline.bus import Bus, StorageUnavailable
from threadline.channels.email.smtp import start_smtp_server
from threadline.core.model import InboundMessage, ParseResult, PayloadError
from threadline.ports import Inbox
from threadline.storage.tables import inbound_receipts, messages

pytestmark = pytest.mark.anyio


class BuggyParser:
    """A parser with a bug in it, as a third-party or future parser may have:
    it raises ``error`` on a payload starting with b"bad", and otherwise reads
    b"ok <id>" as a message from one phone."""

    offload = False

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __call__(
        self, inbox: Inbox, body: bytes, context: Mapping[str, Any]
    ) -> ParseResult | Sequence[ParseResult]:
        if body.startswith(b"bad"):
            raise self.error
        from threadline.core.model import Channel, IdentityRef

        return InboundMessage(
            channel=Channel.SMS,
            provider_message_id=body.decode(),
            sender=IdentityRef("phone", "+14155550101"),
            text="hello",
        )


def _bus_with(c: Container, error: Exception) -> Bus:
    return Bus(c.db, c.bus.cfg, {**c.bus.parsers, "buggy": BuggyParser(error)}, c.bus.deps)


async def _count(c: Container, table: sa.Table) -> int:
    return int(
        await c.db.read(
            lambda conn: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        )
    )


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (KeyError("entry"), "KeyError: 'entry'"),
        (TypeError("'int' object is not iterable"), "TypeError: 'int' object is not iterable"),
        (OverflowError("date value out of range"), "OverflowError: date value out of range"),
        (RecursionError("maximum recursion depth exceeded"), "RecursionError: maximum"),
        (PayloadError("no MessageSid"), "no MessageSid"),
    ],
)
async def test_any_parser_failure_is_quarantined_and_the_next_payload_is_stored(
    container: Container, error: Exception, reason: str
) -> None:
    bus = _bus_with(container, error)
    inbox = await make_api_inbox(container)
    bad = await bus.ingest(Payload(inbox, "buggy", b"bad payload", {}))
    assert bad.status == "quarantined"
    assert (bad.detail or "").startswith(reason)
    stored = await container.db.read(
        lambda conn: conn.execute(
            sa.select(inbound_receipts.c.status, inbound_receipts.c.error).where(
                inbound_receipts.c.id == bad.receipt_id
            )
        ).one()
    )
    assert stored.status == "quarantined"
    assert stored.error.startswith(reason)
    # the provider's retry is acknowledged, and the payload behind it goes through
    assert (await bus.ingest(Payload(inbox, "buggy", b"bad payload", {}))).status == "duplicate"
    good = await bus.ingest(Payload(inbox, "buggy", b"ok 1", {}))
    assert good.status == "processed"
    assert await _count(container, messages) == 1


async def test_replay_with_a_crashing_parser_is_a_clear_refusal(container: Container) -> None:
    bus = _bus_with(container, IndexError("list index out of range"))
    inbox = await make_api_inbox(container)
    bad = await bus.ingest(Payload(inbox, "buggy", b"bad", {}))
    with pytest.raises(ActionError, match="IndexError: list index out of range"):
        await bus.replay(bad.receipt_id)
    fixed = await bus.replay(bad.receipt_id, b"ok 2")
    assert fixed.status == "processed"


class _TableGone:
    """Take a table away from under the server (renamed by another connection),
    so no payload can be stored or quarantined; then give it back."""

    def __init__(self, c: Container, table: str = "inbound_receipts") -> None:
        self.engine = sa.create_engine(c.db.url)
        self.table = table

    def _rename(self, old: str, new: str) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(f"ALTER TABLE {old} RENAME TO {new}")

    def __enter__(self) -> None:
        self._rename(self.table, self.table + "_away")

    def __exit__(self, *_: object) -> None:
        self._rename(self.table + "_away", self.table)
        self.engine.dispose()


async def test_a_payload_that_cannot_even_be_quarantined_raises_storage_unavailable(
    container: Container,
) -> None:
    bus = _bus_with(container, KeyError("x"))
    inbox = await make_api_inbox(container)
    with _TableGone(container), pytest.raises(StorageUnavailable):
        await bus.ingest(Payload(inbox, "buggy", b"bad", {}))
    assert (await bus.ingest(Payload(inbox, "buggy", b"bad", {}))).status == "quarantined"


async def test_webhook_and_api_answer_503_while_storage_fails_then_store_the_retry(
    container: Container, served: str
) -> None:
    telegram = await make_telegram_inbox(container)
    await make_api_inbox(container)
    _, token = await make_agent(container)
    body = update("private_text", update_id=4242)
    api_body = {"id": "m-503", "customer": {"external_id": "u1"}, "text": "hello"}

    async def post_both(http: httpx.AsyncClient) -> tuple[httpx.Response, httpx.Response]:
        hook = await http.post(
            f"/webhooks/telegram/{telegram}",
            content=body,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        api = await http.post(
            "/api/v1/messages", json=api_body, headers={"Authorization": f"Bearer {token}"}
        )
        return hook, api

    async with httpx.AsyncClient(base_url=served) as http:
        with _TableGone(container):
            hook, api = await post_both(http)
        assert (hook.status_code, api.status_code) == (503, 503)
        assert "retry" in hook.json()["detail"]
        assert hook.headers["retry-after"]
        hook, api = await post_both(http)
    assert (hook.status_code, api.status_code) == (200, 202)
    assert await _count(container, messages) == 2


async def test_a_webhook_that_cannot_read_its_inbox_answers_503(
    container: Container, served: str
) -> None:
    async with httpx.AsyncClient(base_url=served) as http:
        # an inbox the bus has not cached: finding it needs a read, and that fails
        with _TableGone(container, "inboxes"):
            r = await http.post(
                "/webhooks/telegram/77",
                content=update("private_text"),
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            )
    assert r.status_code == 503


async def test_smtp_accepts_mail_the_parser_chokes_on_and_451s_only_storage_failures(
    container: Container,
) -> None:
    """SMTP answered 451 for ever to a message whose parse raised anything but
    ValueError (here: OverflowError on a Date with an absurd year)."""
    await make_email_inbox(container)
    port = free_port()
    server = await start_smtp_server(
        container.bus,
        "127.0.0.1",
        port,
        max_bytes=container.settings.email_max_bytes,
        check_senders=False,  # the sender checks have their own tests; no DNS here
    )
    raw, _ = make_email(body="hello")
    absurd = raw.replace(b"Date: ", b"Date: Mon, 1 Jan 99999999999 10:00:00 +0000\nX-Date: ", 1)

    def send(message: bytes) -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.sendmail("ana@example.com", ["support@acme.test"], message)

    try:
        await anyio.to_thread.run_sync(send, absurd)  # raises on any answer but 250
        assert await _count(container, inbound_receipts) == 1
        with _TableGone(container), pytest.raises(smtplib.SMTPDataError) as refused:
            await anyio.to_thread.run_sync(send, make_email(body="later")[0])
        assert refused.value.smtp_code == 451
    finally:
        server.close()
        await server.wait_closed()
