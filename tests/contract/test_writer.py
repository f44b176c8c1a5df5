"""The group-commit writer survives any single failure, on SQLite and PostgreSQL.

Each test bounds its waits: on the old writer these faults killed the writer
thread, and every later write hung instead of failing.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from threadline.actions.receipts import Payload, process_payload
from threadline.core.model import Channel, IdentityRef, InboundMessage
from threadline.storage.db import Database, StorageUnavailable, Tx
from threadline.storage.tables import customers, identities, messages

pytestmark = pytest.mark.anyio

HANG = 20  # seconds: far beyond any write here, only there so a hang fails the test


def _add_customer(name: str) -> Any:
    def fn(tx: Tx) -> int:
        return int(
            tx.conn.execute(
                customers.insert().returning(customers.c.id),
                {"name": name, "created_at": tx.now, "updated_at": tx.now},
            ).scalar_one()
        )

    return fn


def _driver(tx: Tx) -> Any:
    driver = tx.conn.connection.driver_connection
    assert driver is not None
    return driver


async def _names(db: Database) -> set[str]:
    rows = await db.read(lambda c: c.execute(sa.select(customers.c.name)).scalars().all())
    return set(rows)


async def test_action_breaking_its_savepoint_fails_alone_and_the_writer_lives_on(container) -> None:  # type: ignore[no-untyped-def]
    db: Database = container.db

    def breaks_the_savepoint(tx: Tx) -> None:
        # The savepoint goes away under the writer: its ROLLBACK TO then fails
        # outside the action, where the old writer thread died of it.
        _driver(tx).execute("RELEASE SAVEPOINT work")
        raise RuntimeError("action bug")

    async with asyncio.timeout(HANG):
        results = await asyncio.gather(
            db.write(_add_customer("before")),
            db.write(breaks_the_savepoint),
            db.write(_add_customer("after")),
            return_exceptions=True,
        )
        assert isinstance(results[1], Exception)
        assert not isinstance(results[0], Exception)
        assert not isinstance(results[2], Exception)
        await db.write(_add_customer("later"))
    assert await _names(db) == {"before", "after", "later"}


async def test_action_error_fails_its_caller_and_the_rest_of_the_batch_commits(container) -> None:  # type: ignore[no-untyped-def]
    db: Database = container.db

    def bad_sql(tx: Tx) -> None:
        _driver(tx).execute("SELECT * FROM no_such_table")

    async with asyncio.timeout(HANG):
        results = await asyncio.gather(
            *(db.write(_add_customer(f"c{i}")) for i in range(5)),
            db.write(bad_sql),
            *(db.write(_add_customer(f"d{i}")) for i in range(5)),
            return_exceptions=True,
        )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1
    assert "no_such_table" in str(errors[0])
    assert await _names(db) == {f"c{i}" for i in range(5)} | {f"d{i}" for i in range(5)}


# The thread really dies of it, as it should: pytest reports the thread's exit.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_a_dead_writer_fails_waiting_callers_and_healthz_says_so(container, served) -> None:  # type: ignore[no-untyped-def]
    db: Database = container.db
    async with httpx.AsyncClient(base_url=served) as http:
        assert (await http.get("/healthz")).status_code == 200

        def stop_the_thread(_tx: Tx) -> None:
            raise SystemExit  # not an Exception: nothing in the writer may swallow it

        async with asyncio.timeout(HANG):
            with pytest.raises(StorageUnavailable):
                await db.write(stop_the_thread, key="ana")
            # the same key lands on the same (dead) writer: an error, not a hang
            with pytest.raises(StorageUnavailable):
                await db.write(_add_customer("x"), key="ana")
            health = await http.get("/healthz")
    assert health.status_code == 503
    assert "writer thread stopped" in health.json()["reason"]


async def test_healthz_is_503_when_a_trivial_write_cannot_commit(container, served) -> None:  # type: ignore[no-untyped-def]
    db: Database = container.db
    if not db.is_sqlite:
        pytest.skip("holds SQLite's one write lock from another connection")
    other = sqlite3.connect(db.url.removeprefix("sqlite:///"), isolation_level=None)
    async with httpx.AsyncClient(base_url=served, timeout=HANG) as http:
        other.execute("BEGIN IMMEDIATE")
        try:
            blocked = await http.get("/healthz")
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert blocked.status_code == 503
        assert "did not commit" in blocked.json()["reason"]
        # The blocked probe now commits: health comes back without a restart.
        async with asyncio.timeout(HANG):
            while (await http.get("/healthz")).status_code != 200:
                await asyncio.sleep(0.05)


async def test_twenty_health_checks_at_once_cost_the_writer_one_trivial_commit(container) -> None:  # type: ignore[no-untyped-def]
    """A load balancer's probes share one write probe, and a good one answers for a
    second: they neither fill the writer's queue nor wait behind it."""
    db: Database = container.db
    begins = 0

    def count(_conn: Any) -> None:
        nonlocal begins
        begins += 1

    sa.event.listen(db.write_engine, "begin", count)
    try:
        async with asyncio.timeout(HANG):
            first = await asyncio.gather(*(db.check_writers(timeout=HANG) for _ in range(20)))
            assert first == [None] * 20
            assert begins == len(db._queues)  # one trivial commit per writer
            again = await asyncio.gather(*(db.check_writers(timeout=HANG) for _ in range(20)))
    finally:
        sa.event.remove(db.write_engine, "begin", count)
    assert again == [None] * 20
    assert begins == len(db._queues)  # answered by the probe a moment ago


async def test_driver_integrity_error_requeues_the_action(container) -> None:  # type: ignore[no-untyped-def]
    """A real driver-level IntegrityError (sqlite3 / psycopg, not SQLAlchemy's)
    re-queues the action, which then sees the row that caused it."""
    db: Database = container.db
    owner = await db.write(_add_customer("owner"))
    ident = ("email", "ana@example.com")
    await db.write(
        lambda tx: tx.conn.execute(
            identities.insert(),
            {
                "customer_id": owner[0],
                "kind": ident[0],
                "value": ident[1],
                "verified": True,
                "created_at": tx.now,
            },
        )
    )
    attempts = []

    def stale_then_fresh(tx: Tx) -> int:
        attempts.append(1)
        if len(attempts) == 1:
            # Decided on a stale read (as a concurrent writer's loser does): the
            # driver's own cursor raises the driver's own IntegrityError.
            params = {"c": owner[0], "k": ident[0], "v": ident[1], "t": True, "n": tx.now}
            sql = "INSERT INTO identities (customer_id, kind, value, verified, created_at) VALUES "
            if db.is_sqlite:
                params["n"] = tx.now.isoformat()
                _driver(tx).execute(sql + "(:c, :k, :v, :t, :n)", params)
            else:
                _driver(tx).execute(sql + "(%(c)s, %(k)s, %(v)s, %(t)s, %(n)s)", params)
        row = tx.conn.execute(
            sa.select(identities.c.customer_id).where(identities.c.value == ident[1])
        ).scalar_one()
        return int(row)

    async with asyncio.timeout(HANG):
        found, _ = await db.write(stale_then_fresh)
    assert found == owner[0]
    assert len(attempts) == 2
    assert db.integrity_retries == 1


def _first_message(n: int) -> InboundMessage:
    return InboundMessage(
        channel=Channel.SMS,
        provider_message_id=f"SM-race-{n}",
        sender=IdentityRef("phone", "+14155550199"),
        text=f"first message {n}",
    )


async def test_two_writers_racing_on_one_new_identity_retry_and_agree(container) -> None:  # type: ignore[no-untyped-def]
    """Two processes' writers get the same new customer's first messages at once:
    the loser's unique violation re-queues its action, which then continues the
    winner's customer instead of failing."""
    db: Database = container.db
    if db.is_sqlite:
        pytest.skip("SQLite has one writer across processes: its transactions never race")
    inbox = await _sms_inbox(container)
    cfg = container.bus.cfg
    both_read = threading.Barrier(2, timeout=HANG)

    def racing(n: int) -> Any:
        def fn(tx: Tx) -> Any:
            if n not in raced:
                raced.add(n)
                # Both transactions are open and have seen nothing of each other.
                tx.conn.exec_driver_sql("SELECT 1")
                both_read.wait()
            return process_payload(tx, cfg, Payload(inbox, "api", b"{}", {}), _first_message(n))

        return fn

    raced: set[int] = set()
    other = Database(db.url, container.db.clock, writer_threads=1)
    try:
        async with asyncio.timeout(HANG):
            (a, _), (b, _) = await asyncio.gather(
                db.write(racing(1), key="k"), other.write(racing(2), key="k")
            )
    finally:
        other.close()
    assert a.customer_id == b.customer_id
    assert db.integrity_retries + other.integrity_retries >= 1
    count = await db.read(lambda c: c.execute(sa.select(sa.func.count()).select_from(messages)))
    assert count.scalar_one() == 2


async def _sms_inbox(container: Any) -> int:
    from tests.support.factories import make_inbox

    return await make_inbox(container, "sms", "SMS", "+14155550100", {})


async def test_a_dropped_postgres_connection_is_replaced(container) -> None:  # type: ignore[no-untyped-def]
    db: Database = container.db
    if db.is_sqlite:
        pytest.skip("PostgreSQL only: a server-side connection to drop")
    async with asyncio.timeout(HANG):
        for i in range(6):  # reach every writer thread, so each holds a connection
            await db.write(_add_customer(f"warm{i}"))
    admin = sa.create_engine(db.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.exec_driver_sql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).scalar_one()
    admin.dispose()
    assert killed >= 1
    async with asyncio.timeout(HANG):
        for i in range(6):
            await db.write(_add_customer(f"after{i}"))
    assert {f"after{i}" for i in range(6)} <= await _names(db)


async def test_a_failed_commit_reaches_every_caller_in_its_batch(container) -> None:  # type: ignore[no-untyped-def]
    """No silent loss: a write reported done is stored, and one whose commit
    failed is reported failed (StorageUnavailable), for every caller."""
    db: Database = container.db

    def fails_at_commit(tx: Tx) -> None:
        # A constraint checked only at COMMIT, so the action itself succeeds.
        if db.is_sqlite:
            tx.conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            tx.conn.exec_driver_sql(
                "INSERT INTO identities (customer_id, kind, value, verified, created_at) "
                "VALUES (999999, 'email', 'ghost@example.com', 1, '2026-01-01 00:00:00')"
            )
        else:
            tx.conn.exec_driver_sql(
                "CREATE TEMP TABLE deferred_check (id int UNIQUE DEFERRABLE INITIALLY DEFERRED) "
                "ON COMMIT DROP"
            )
            tx.conn.exec_driver_sql("INSERT INTO deferred_check VALUES (1), (1)")

    async with asyncio.timeout(HANG):
        results = await asyncio.gather(
            *(db.write(_add_customer(f"n{i}"), key="one") for i in range(3)),
            db.write(fails_at_commit, key="one"),
            *(db.write(_add_customer(f"m{i}"), key="one") for i in range(3)),
            return_exceptions=True,
        )
        assert isinstance(results[3], StorageUnavailable)
        stored = await _names(db)
        for name, result in zip(["n0", "n1", "n2", None, "m0", "m1", "m2"], results, strict=True):
            if name is not None:
                assert (name in stored) == (not isinstance(result, BaseException)), name
        await db.write(_add_customer("after"))  # and the writer goes on
