"""One group-commit batch: many actions in one transaction, each in a savepoint.

``Database``'s writer threads hand each batch here. The rules that keep a
writer alive: an action's own exception fails that action alone; a failure of
the transaction itself (a savepoint, the connection, the commit) never escapes,
and every caller is told what became of its work.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import psycopg
import structlog
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from threadline.clock import Clock

__all__ = ["BatchWriter", "Outcome", "StorageUnavailable", "Tx", "Work", "discard", "settle"]

log = structlog.get_logger(__name__)
T = TypeVar("T")


@dataclass
class Tx:
    """What an action sees: one connection inside a transaction, the time, and
    the events it records (dispatched to handlers only after commit)."""

    conn: Connection
    now: datetime
    events: list[Any] = field(default_factory=list)
    now_text: str | None = None  # ``now`` as SQLite stores it, once formatted (storage/sql.py)
    # Rows this action reads more than once and does not change, read once (an
    # inbox's config: actions/sla.py). It lives as long as the action's savepoint.
    memo: dict[Any, Any] = field(default_factory=dict)

    def emit(self, event: Any) -> None:
        self.events.append(event)


@dataclass
class Work(Generic[T]):
    fn: Callable[[Tx], T]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[tuple[T, list[Any]]]
    retries: int = 0  # re-queued after an integrity error
    attempts: int = 0  # transactions it was in that failed for someone else's reason


class StorageUnavailable(Exception):
    """The database could not take a write (connection lost, commit failed, a
    writer gone): nothing of it is known to be stored, so the caller should retry."""


# A concurrent writer (another thread or process) committed the same unique key
# first. The hot path runs on the driver's cursor, so the driver's own class
# arrives here as often as SQLAlchemy's wrapper.
_INTEGRITY = (IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError)
_MAX_RETRIES = 3
_MAX_ATTEMPTS = 3
Outcome = tuple[Work[Any], Any, BaseException | None]


class BatchWriter:
    """Runs one writer thread's batches on its connection, replacing the
    connection when it breaks."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        setup: Callable[[Connection], None] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.setup = setup  # run on each new writer connection
        self.integrity_retries = 0

    def _connect(self, conn: Connection | None) -> Connection:
        if conn is not None and not conn.invalidated and not conn.closed:
            return conn
        discard(conn)
        conn = self.engine.connect()
        if self.setup is not None:
            try:
                self.setup(conn)
            except BaseException:
                discard(conn)
                raise
        return conn

    def run(
        self, conn: Connection | None, batch: list[Work[Any]], inbox: queue.SimpleQueue[Any]
    ) -> Connection | None:
        settled: list[Outcome] = []
        todo = batch
        while todo:
            try:
                conn = self._connect(conn)
            except Exception as exc:
                log.error("db.connect_failed", error=str(exc), batch=len(todo))
                error = StorageUnavailable(f"cannot connect to the database: {exc}")
                settled += [(w, None, error) for w in todo]
                break
            conn, todo = self._attempt(conn, todo, inbox, settled)
        settle(settled)
        return conn

    def _attempt(
        self,
        conn: Connection,
        todo: list[Work[Any]],
        inbox: queue.SimpleQueue[Any],
        settled: list[Outcome],
    ) -> tuple[Connection | None, list[Work[Any]]]:
        """One transaction over ``todo``; returns the work to run again in a new one.

        An action's own exception fails that action alone (its savepoint is rolled
        back). A failure of the transaction itself (a savepoint, the connection)
        is blamed on the action that was running when the connection still works
        afterwards, and on nobody when it does not; the others run again.
        """
        done: list[Outcome] = []
        current: Work[Any] | None = None
        trans = None
        driver = conn.connection.driver_connection
        assert driver is not None
        try:
            trans = conn.begin()  # BEGIN IMMEDIATE on SQLite: it can fail too
            for work in todo:
                current = work
                tx = Tx(conn, self.clock.now())
                # Straight on the driver: SQLAlchemy's nested-transaction
                # bookkeeping costs more than the savepoint itself.
                driver.execute("SAVEPOINT work")
                try:
                    result = work.fn(tx)
                except Exception as exc:
                    driver.execute("ROLLBACK TO SAVEPOINT work")
                    driver.execute("RELEASE SAVEPOINT work")
                    if isinstance(exc, _INTEGRITY) and work.retries < _MAX_RETRIES:
                        # Another writer committed the same identity or receipt
                        # first; rerun against what it wrote.
                        work.retries += 1
                        self.integrity_retries += 1
                        log.info("db.integrity_retry", retries=work.retries, error=str(exc))
                        inbox.put(work)
                    else:
                        done.append((work, None, exc))
                else:
                    driver.execute("RELEASE SAVEPOINT work")
                    done.append((work, (result, tx.events), None))
            current = None
        except Exception as exc:
            return self._abandon(conn, driver, trans, todo, current, exc, settled)
        try:
            trans.commit()
        except Exception as exc:
            # The commit may or may not have reached the disk: tell every caller,
            # never guess. A retry of an inbound payload dedups on its receipt.
            log.error("db.commit_failed", error=str(exc), batch=len(todo))
            error = StorageUnavailable(f"the commit failed: {exc}")
            settled += [(w, None, error) for w, _, _ in done]
            return self._usable(conn, driver), []
        settled += done
        return conn, []

    def _abandon(
        self,
        conn: Connection,
        driver: Any,
        trans: Any,
        todo: list[Work[Any]],
        current: Work[Any] | None,
        exc: Exception,
        settled: list[Outcome],
    ) -> tuple[Connection | None, list[Work[Any]]]:
        """The transaction broke mid-batch: nothing of it is stored."""
        log.error("db.transaction_failed", error=f"{type(exc).__name__}: {exc}", batch=len(todo))
        if trans is not None:
            with contextlib.suppress(Exception):
                trans.rollback()
        usable = self._usable(conn, driver)
        again: list[Work[Any]] = []
        for work in todo:
            if work is current and usable is not None:
                settled.append((work, None, exc))  # the connection is fine: this action broke it
                continue
            work.attempts += 1
            if work.attempts >= _MAX_ATTEMPTS:
                settled.append((work, None, StorageUnavailable(f"the write failed: {exc}")))
            else:
                again.append(work)
        return usable, again

    def _usable(self, conn: Connection, driver: Any) -> Connection | None:
        """The connection if its driver connection still answers; else None, and it
        is thrown away. (SQLAlchemy would quietly reconnect an invalidated one,
        which would hide that the failure was the connection's.)"""
        try:
            # get_transaction, not in_transaction: a transaction whose COMMIT failed
            # is inactive but still attached, and would refuse the next begin().
            if conn.get_transaction() is not None:
                conn.rollback()
            same = conn.connection.driver_connection is driver
            if conn.invalidated or not same:
                raise StorageUnavailable("the connection was lost")
            driver.execute("SELECT 1")
            driver.rollback()
        except Exception:
            discard(conn)
            return None
        return conn


def nothing(_tx: Tx) -> None:
    return None


def discard(conn: Connection | None) -> None:
    """Throw a connection away (it may be broken, so errors are expected)."""
    if conn is None:
        return
    with contextlib.suppress(Exception):
        conn.invalidate()
    with contextlib.suppress(Exception):
        conn.close()


def settle(outcomes: list[Outcome]) -> None:
    # One wake-up per event loop per batch, not per message: each
    # call_soon_threadsafe writes to the loop's self-pipe.
    by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
    for work, value, error in outcomes:
        by_loop.setdefault(work.loop, []).append((work.future, value, error))
    for loop, settled in by_loop.items():
        # A closed loop (its caller is gone) must not take the writer down with it.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle_all, settled)


def _settle_all(settled: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for fut, value, exc in settled:
        if fut.done():  # the caller went away (a dropped request): the work is committed anyway
            continue
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(value)
