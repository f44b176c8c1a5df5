"""Engines, the write path (one writer with group commit) and the read path.

Every write in Threadline is a plain function ``fn(tx) -> result`` run by
:class:`Database.write`. On SQLite one writer thread runs many of them in one
``BEGIN IMMEDIATE`` transaction, each inside its own savepoint, and every caller
is answered after the commit that holds its work: a durable acknowledgement per
message at batch cost (STACK.md §3.2: 30k msg/s against 1.2k/s for one
transaction per request). On PostgreSQL a few writer threads do the same over a
connection each. Reads run in worker threads on their own pool.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import anyio.to_thread
import sqlalchemy as sa
import structlog
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from threadline.clock import Clock

__all__ = ["Database", "Tx", "sync_url"]

log = structlog.get_logger(__name__)
T = TypeVar("T")


def sync_url(url: str) -> str:
    """Accept the URLs people write and pick our drivers: stdlib sqlite3, psycopg 3."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("postgresql+asyncpg://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite+aiosqlite://"):
        return "sqlite://" + url.split("://", 1)[1]
    return url


@dataclass
class Tx:
    """What an action sees: one connection inside a transaction, the time, and
    the events it records (dispatched to handlers only after commit)."""

    conn: Connection
    now: datetime
    events: list[Any] = field(default_factory=list)
    now_text: str | None = None  # ``now`` as SQLite stores it, once formatted (storage/sql.py)

    def emit(self, event: Any) -> None:
        self.events.append(event)


@dataclass
class _Work(Generic[T]):
    fn: Callable[[Tx], T]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[tuple[T, list[Any]]]
    retries: int = 0


_STOP = object()


def _sqlite_engine(url: str, *, writer: bool) -> Engine:
    engine = sa.create_engine(
        url,
        poolclass=sa.pool.QueuePool if not writer else sa.pool.SingletonThreadPool,
        connect_args={"check_same_thread": False},
        pool_size=4 if not writer else 1,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "busy_timeout=10000",
            "foreign_keys=ON",
        ):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()
        # Let SQLAlchemy's "begin" event issue BEGIN itself (STACK.md gotcha 3).
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Take the write lock up front: a deferred BEGIN that later upgrades can
        # fail with "database is locked" however long busy_timeout is.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


class Database:
    def __init__(
        self,
        url: str,
        clock: Clock,
        *,
        writer_threads: int | None = None,
        max_batch: int = 256,
    ) -> None:
        self.url = sync_url(url)
        self.clock = clock
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            self.write_engine = _sqlite_engine(self.url, writer=True)
            self.read_engine = _sqlite_engine(self.url, writer=False)
            threads = 1  # SQLite has one writer; more threads would only queue on the lock
        else:
            self.write_engine = sa.create_engine(self.url, pool_size=8, max_overflow=4)
            self.read_engine = self.write_engine
            threads = writer_threads or 3
        self.dialect = self.write_engine.dialect.name
        self._max_batch = max_batch
        # One queue per writer: work for the same customer always lands on the same
        # writer, so two of their messages are never placed by concurrent transactions
        # (each would see no conversation yet and open one).
        self._queues: list[queue.SimpleQueue[Any]] = [queue.SimpleQueue() for _ in range(threads)]
        self._threads = [
            threading.Thread(
                target=self._writer_loop, args=(q,), name=f"db-writer-{i}", daemon=True
            )
            for i, q in enumerate(self._queues)
        ]
        self._next = itertools.count()
        self._started = False
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if not self._started:
                for t in self._threads:
                    t.start()
                self._started = True

    def close(self) -> None:
        with self._lock:
            if self._started:
                for q in self._queues:
                    q.put(_STOP)
                for t in self._threads:
                    t.join(timeout=10)
                self._started = False
        self.write_engine.dispose()
        self.read_engine.dispose()

    # -- the write path --------------------------------------------------------
    async def write(self, fn: Callable[[Tx], T], *, key: str | None = None) -> tuple[T, list[Any]]:
        """Run ``fn`` in a transaction; return its result and its events after commit.

        Writes with the same ``key`` (a customer's identity) run one after another.
        """
        self.start()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[tuple[T, list[Any]]] = loop.create_future()
        slot = hash(key) if key is not None else next(self._next)
        self._queues[slot % len(self._queues)].put(_Work(fn, loop, fut))
        return await fut

    def write_sync(self, fn: Callable[[Tx], T]) -> T:
        """For the CLI and bulk tools: one transaction on the calling thread."""
        with self.write_engine.connect() as conn, conn.begin():
            return fn(Tx(conn, self.clock.now()))

    def _writer_loop(self, inbox: queue.SimpleQueue[Any]) -> None:
        conn = self.write_engine.connect()
        try:
            while True:
                first = inbox.get()
                if first is _STOP:
                    return
                batch: list[_Work[Any]] = [first]
                stop = False
                while len(batch) < self._max_batch:
                    try:
                        item = inbox.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stop = True
                        break
                    batch.append(item)
                conn = self._run_batch(conn, batch, inbox)
                if stop:
                    return
        finally:
            conn.close()

    def _run_batch(
        self, conn: Connection, batch: list[_Work[Any]], inbox: queue.SimpleQueue[Any]
    ) -> Connection:
        outcomes: list[tuple[_Work[Any], Any, BaseException | None]] = []
        try:
            with conn.begin():
                driver = conn.connection.driver_connection
                assert driver is not None
                for work in batch:
                    tx = Tx(conn, self.clock.now())
                    # Straight on the driver: SQLAlchemy's nested-transaction
                    # bookkeeping costs more than the savepoint itself.
                    driver.execute("SAVEPOINT work")
                    try:
                        result = work.fn(tx)
                    except BaseException as exc:
                        driver.execute("ROLLBACK TO SAVEPOINT work")
                        driver.execute("RELEASE SAVEPOINT work")
                        if isinstance(exc, IntegrityError) and work.retries < 3:
                            # Another writer committed the same identity or receipt
                            # first; rerun against what it wrote.
                            work.retries += 1
                            inbox.put(work)
                            continue
                        outcomes.append((work, None, exc))
                    else:
                        driver.execute("RELEASE SAVEPOINT work")
                        outcomes.append((work, (result, tx.events), None))
        except DBAPIError as exc:
            log.error("db.commit_failed", error=str(exc), batch=len(batch))
            outcomes = [(w, None, exc) for w in batch]
            if exc.connection_invalidated or conn.invalidated:
                conn.close()
                conn = self.write_engine.connect()
        # One wake-up per event loop per batch, not per message: each
        # call_soon_threadsafe writes to the loop's self-pipe.
        by_loop: dict[asyncio.AbstractEventLoop, list[Any]] = {}
        for work, value, error in outcomes:
            by_loop.setdefault(work.loop, []).append((work.future, value, error))
        for loop, settled in by_loop.items():
            loop.call_soon_threadsafe(_settle_all, settled)
        return conn

    # -- the read path ---------------------------------------------------------
    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        with self.read_engine.connect() as conn:
            return fn(conn)

    async def read(self, fn: Callable[[Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self.read_sync, fn)


def _settle_all(settled: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for fut, value, exc in settled:
        if fut.done():  # the caller went away (a dropped request): the work is committed anyway
            continue
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(value)
