"""The IMAP poller against a real Dovecot (tests/support/dovecot.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import anyio
import anyio.to_thread
import pytest
from tests.support.dovecot import Dovecot, running_dovecot
from tests.support.dovecot_fixture import require_dovecot

from threadline.channels.email.imap import ImapConfig, ImapPoller, MailboxState

pytestmark = [pytest.mark.anyio, pytest.mark.dovecot]

# Generous: these bound a push over loopback, they are not timing assertions.
WAIT = 10.0


def message(n: int, *, subject: str | None = None) -> bytes:
    # CRLF throughout: IMAP serves messages with CRLF, so only a CRLF message
    # can come back byte for byte. The 8-bit body checks nothing is re-encoded.
    return (
        "From: Ana Lima <ana@example.com>\r\n"
        "To: support@acme.test\r\n"
        f"Subject: {subject or f'Order {n}'}\r\n"
        f"Message-ID: <{n}.{uuid.uuid4().hex}@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"Olá, pedido nº {n} não chegou.  \r\n"
        "\r\n"
        "-- \r\n"
        "Ana\r\n"
    ).encode()


@dataclass
class Store:
    """Stands in for the caller's transaction: the message and the state commit together."""

    state: MailboxState = field(default_factory=lambda: MailboxState(None, 0))
    delivered: list[tuple[bytes, int, int]] = field(default_factory=list)
    attempts: list[int] = field(default_factory=list)
    fail_uids: set[int] = field(default_factory=set)
    loads: int = 0

    async def load_state(self) -> MailboxState:
        self.loads += 1
        return self.state

    async def deliver(self, raw: bytes, uidvalidity: int, uid: int) -> None:
        self.attempts.append(uid)
        if uid in self.fail_uids:
            raise RuntimeError("database unavailable")
        self.delivered.append((raw, uidvalidity, uid))
        self.state = MailboxState(uidvalidity, uid)

    @property
    def uids(self) -> list[int]:
        return [uid for _, _, uid in self.delivered]


def config(server: Dovecot, **overrides: object) -> ImapConfig:
    return ImapConfig(
        host=server.host,
        port=server.port,
        username=server.user,
        password=server.password,
        **overrides,  # type: ignore[arg-type]
    )


def poller(server: Dovecot, store: Store, **overrides: object) -> ImapPoller:
    return ImapPoller(
        config(server, **overrides), load_state=store.load_state, deliver=store.deliver
    )


def uidvalidity(server: Dovecot, folder: str = "INBOX") -> int:
    with server.connect() as client:
        return int(client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])


async def test_poll_once_delivers_new_mail_in_uid_order_with_exact_bytes(
    dovecot: Dovecot,
) -> None:
    raws = [message(n) for n in range(1, 4)]
    uids = [dovecot.append(raw) for raw in raws]
    store = Store()
    p = poller(dovecot, store)
    try:
        assert await p.poll_once() == 3
        assert await p.poll_once() == 0
    finally:
        await p.aclose()

    validity = uidvalidity(dovecot)
    assert store.delivered == [(raw, validity, uid) for raw, uid in zip(raws, uids, strict=True)]
    assert store.state == MailboxState(validity, uids[-1])


async def test_messages_are_fetched_in_batches_and_keep_no_seen_flag(dovecot: Dovecot) -> None:
    with dovecot.connect() as client:
        for n in range(1, 121):
            client.append("INBOX", message(n))
    store = Store()
    p = poller(dovecot, store)
    try:
        assert await p.poll_once() == 120
    finally:
        await p.aclose()

    assert store.uids == list(range(1, 121))
    assert [raw.split(b"\r\n")[2] for raw, _, _ in store.delivered][-1] == b"Subject: Order 120"
    with dovecot.connect() as client:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags(client.search("ALL"))
    assert len(flags) == 120
    assert all(b"\\Seen" not in f for f in flags.values())


async def test_a_restarted_poller_neither_reimports_nor_skips(dovecot: Dovecot) -> None:
    for n in (1, 2):
        dovecot.append(message(n))
    store = Store()
    first = poller(dovecot, store)
    try:
        assert await first.poll_once() == 2
    finally:
        await first.aclose()

    # A new process: only the saved state survives.
    saved = Store(state=store.state)
    second = poller(dovecot, saved)
    try:
        assert await second.poll_once() == 0
        new = message(3)
        uid = dovecot.append(new)
        assert await second.poll_once() == 1
    finally:
        await second.aclose()

    assert saved.delivered == [(new, store.state.uidvalidity, uid)]
    assert saved.state == MailboxState(store.state.uidvalidity, 3)


async def test_a_failed_delivery_is_retried_on_the_next_poll(dovecot: Dovecot) -> None:
    raws = [message(n) for n in range(1, 4)]
    for raw in raws:
        dovecot.append(raw)
    store = Store(fail_uids={2})
    p = poller(dovecot, store)
    try:
        with pytest.raises(RuntimeError, match="database unavailable"):
            await p.poll_once()
        assert store.uids == [1]
        assert store.state.last_uid == 1

        store.fail_uids.clear()
        assert await p.poll_once() == 2
    finally:
        await p.aclose()

    assert store.attempts == [1, 2, 2, 3]
    assert [raw for raw, _, _ in store.delivered] == raws


async def test_a_new_uidvalidity_resyncs_from_the_start(dovecot: Dovecot) -> None:
    with dovecot.connect() as client:
        client.create_folder("Support")
    for n in (1, 2, 3):
        dovecot.append(message(n), folder="Support")
    store = Store()
    p = poller(dovecot, store, folder="Support")
    try:
        assert await p.poll_once() == 3
        old = store.state

        # Deleting and recreating a folder is the classic way UIDs get reused.
        with dovecot.connect() as client:
            client.delete_folder("Support")
            client.create_folder("Support")
        raw = message(4)
        uid = dovecot.append(raw, folder="Support")
        assert uid == 1  # below the stored last_uid: only a resync can find it

        assert await p.poll_once() == 1
    finally:
        await p.aclose()

    new_validity = uidvalidity(dovecot, "Support")
    assert new_validity != old.uidvalidity
    assert store.delivered[-1] == (raw, new_validity, 1)
    assert store.state == MailboxState(new_validity, 1)


async def test_mail_delivered_by_the_mta_is_imported(dovecot: Dovecot) -> None:
    raw = message(1, subject="Via LDA")
    dovecot.deliver(raw)
    store = Store()
    p = poller(dovecot, store)
    try:
        assert await p.poll_once() == 1
    finally:
        await p.aclose()
    # The LDA may prepend trace headers; the original message follows them intact.
    got = store.delivered[0][0]
    assert got.endswith(raw.split(b"\r\n", 2)[2])
    assert b"Subject: Via LDA\r\n" in got


async def test_run_picks_up_mail_appended_while_idling(dovecot: Dovecot) -> None:
    dovecot.append(message(1))
    store = Store()
    # A long idle_timeout: if IDLE didn't push, nothing would poll within WAIT.
    p = poller(dovecot, store, idle_timeout=300.0, poll_interval=300.0)
    stop = anyio.Event()
    # The outer bound only keeps a hung run() from hanging the suite.
    with anyio.fail_after(WAIT * 4):
        async with anyio.create_task_group() as tg:
            tg.start_soon(p.run, stop)
            with anyio.fail_after(WAIT):
                while store.uids != [1]:
                    await anyio.sleep(0.05)
            # Let it settle into IDLE (Dovecot's 1 s keepalives must not cause polls).
            await anyio.sleep(1.5)
            assert store.loads == 1

            raw = message(2)
            await anyio.to_thread.run_sync(dovecot.append, raw)
            with anyio.fail_after(WAIT):
                while len(store.delivered) < 2:
                    await anyio.sleep(0.05)
            assert store.delivered[1][0] == raw
            assert store.loads == 2

            stop.set()
            with anyio.fail_after(WAIT):
                # run() must notice stop between idle checks, log out and return.
                while p.connected:
                    await anyio.sleep(0.05)
    assert store.uids == [1, 2]


async def test_run_reconnects_after_the_server_restarts() -> None:
    require_dovecot()
    # A private server: this test takes it down.
    with running_dovecot() as server:
        store = Store()
        p = poller(server, store, idle_timeout=300.0)
        stop = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(p.run, stop)
            server.append(message(1))
            with anyio.fail_after(WAIT):
                while store.uids != [1]:
                    await anyio.sleep(0.05)

            port = server.port
            await anyio.to_thread.run_sync(server.stop)
            await anyio.to_thread.run_sync(lambda: server.start(port=port))
            raw = message(2)
            await anyio.to_thread.run_sync(server.append, raw)
            # Backoff starts at 1 s, so a couple of attempts fit comfortably.
            with anyio.fail_after(WAIT + 5):
                while len(store.delivered) < 2:
                    await anyio.sleep(0.05)
            stop.set()
        assert store.delivered[1][0] == raw
        assert store.uids == [1, 2]
