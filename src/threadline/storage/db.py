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
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
import sqlalchemy as sa
import structlog
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from threadline.clock import Clock
from threadline.storage.batch import (
    BatchWriter,
    Outcome,
    StorageUnavailable,
    Tx,
    Work,
    discard,
    nothing,
    settle,
)
from threadline.storage.checkpoint import WRITER_PRAGMAS, Checkpointer

__all__ = ["Database", "StorageUnavailable", "Tx", "sync_url"]

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


_STOP = object()


PROBE_REUSE = 1.0  # seconds a good /healthz write probe answers for (check_writers)
_READERS = 40  # anyio's default worker-thread limit: one connection per reading thread


def _sqlite_engine(url: str, *, writer: bool) -> Engine:
    # Readers are kept, not reopened: every API request reads its token, and an
    # overflow connection (opened, given four PRAGMAs, closed) cost more than the
    # read (API ingest 354 -> see bench). anyio runs at most 40 worker threads.
    pool: dict[str, Any] = (
        {"poolclass": sa.pool.SingletonThreadPool, "pool_size": 1}
        if writer
        else {"poolclass": sa.pool.QueuePool, "pool_size": _READERS, "max_overflow": 10}
    )
    engine = sa.create_engine(url, connect_args={"check_same_thread": False}, **pool)

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


def _writer_pragmas(conn: Connection) -> None:
    # On the driver: SQLAlchemy would open a transaction (BEGIN IMMEDIATE) around it.
    driver = conn.connection.driver_connection
    assert driver is not None
    for pragma in WRITER_PRAGMAS:
        driver.execute(f"PRAGMA {pragma}")


def _checkpoint_connection(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=100")
    return conn


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
        self.checkpointer: Checkpointer | None = None
        setup: Callable[[Connection], None] | None = None
        if self.is_sqlite:
            self.write_engine = _sqlite_engine(self.url, writer=True)
            self.read_engine = _sqlite_engine(self.url, writer=False)
            threads = 1  # SQLite has one writer; more threads would only queue on the lock
            path = self.write_engine.url.database
            if path and path != ":memory:" and not path.startswith("file:"):
                # The writer's checkpoints run on a thread of their own (checkpoint.py).
                self.checkpointer = Checkpointer(lambda: _checkpoint_connection(path))
                setup = _writer_pragmas
        else:
            # pre_ping: a connection the server dropped is replaced, not handed out
            self.write_engine = sa.create_engine(
                self.url, pool_size=8, max_overflow=4, pool_pre_ping=True
            )
            self.read_engine = self.write_engine
            threads = writer_threads or 3
        self.dialect = self.write_engine.dialect.name
        self._max_batch = max_batch
        self._batches = BatchWriter(self.write_engine, clock, setup)
        # One queue per writer: work for the same customer always lands on the same
        # writer, so two of their messages are never placed by concurrent transactions
        # (each would see no conversation yet and open one).
        self._queues: list[queue.SimpleQueue[Any]] = [queue.SimpleQueue() for _ in range(threads)]
        self._threads = [
            threading.Thread(
                target=self._writer_loop, args=(i,), name=f"db-writer-{i}", daemon=True
            )
            for i, q in enumerate(self._queues)
        ]
        self._stopped = [False] * threads  # a writer's loop ended (set before it drains)
        self._busy_since: list[float | None] = [None] * threads  # monotonic start of its batch
        # /healthz's trivial write, shared: callers within PROBE_REUSE seconds of a
        # good one are told its answer, and callers during one wait for it.
        self._probe: tuple[asyncio.AbstractEventLoop, asyncio.Future[str | None]] | None = None
        self._probed_ok_at: float | None = None
        self._next = itertools.count()
        self._started = False
        self._loop_reader: Connection | None = None  # read_small on SQLite
        self._lock = threading.Lock()

    @property
    def integrity_retries(self) -> int:
        """Actions re-queued after a concurrent writer committed their key first."""
        return self._batches.integrity_retries

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if not self._started:
                if self.checkpointer is not None:
                    self.checkpointer.start()
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
                if self.checkpointer is not None:
                    self.checkpointer.stop()
                self._started = False
        if self._loop_reader is not None:
            self._loop_reader.close()
            self._loop_reader = None
        self.write_engine.dispose()
        self.read_engine.dispose()

    # -- the write path --------------------------------------------------------
    async def write(self, fn: Callable[[Tx], T], *, key: str | None = None) -> tuple[T, list[Any]]:
        """Run ``fn`` in a transaction; return its result and its events after commit.

        Writes with the same ``key`` (a customer's identity) run one after another.
        Raises what ``fn`` raised, or StorageUnavailable when the database failed.
        """
        self.start()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[tuple[T, list[Any]]] = loop.create_future()
        slot = hash(key) if key is not None else next(self._next)
        index = slot % len(self._queues)
        self._enqueue(index, Work(fn, loop, fut))
        return await fut

    def _enqueue(self, index: int, work: Work[Any]) -> None:
        self._queues[index].put(work)
        # Checked after the put: a writer that died before it is drained here,
        # one that dies after it drains its queue itself (_writer_loop).
        if self._started and (self._stopped[index] or not self._threads[index].is_alive()):
            self._fail_queued(index, "the writer thread is not running")

    def _fail_queued(self, index: int, why: str) -> None:
        error = StorageUnavailable(f"{self._threads[index].name}: {why}")
        failed: list[Outcome] = []
        while True:
            try:
                item = self._queues[index].get_nowait()
            except queue.Empty:
                break
            if isinstance(item, Work):
                failed.append((item, None, error))
        settle(failed)

    def dead_writers(self) -> list[str]:
        """Writer threads that stopped while the database is open (never expected)."""
        if not self._started:
            return []
        return [t.name for i, t in enumerate(self._threads) if self._stopped[i] or not t.is_alive()]

    async def check_writers(self, timeout: float) -> str | None:
        """Why the write path is unusable, or None: every writer must be running and
        commit a trivial transaction within ``timeout`` seconds.

        A dead thread or a batch older than ``timeout`` is reported at once. The
        trivial write runs at most once per ``PROBE_REUSE`` seconds while it
        succeeds, shared by every caller: a load balancer probing 20 times a second
        must not put 20 commits a second in the writer's queue, nor wait behind one.
        """
        self.start()
        dead = self.dead_writers()
        if dead:
            return f"writer thread stopped: {', '.join(dead)}"
        now = time.monotonic()
        for index, since in enumerate(self._busy_since):
            if since is not None and now - since > timeout:
                return f"{self._threads[index].name} has been on one batch for {now - since:.0f} s"
        if self._probed_ok_at is not None and now - self._probed_ok_at < PROBE_REUSE:
            return None
        loop = asyncio.get_running_loop()
        if self._probe is None or self._probe[0] is not loop or self._probe[1].done():
            self._probe = (loop, asyncio.ensure_future(self._probe_writers(timeout)))
        # shield: a caller that gives up must not cancel the probe the others await
        return await asyncio.shield(self._probe[1])

    async def _probe_writers(self, timeout: float) -> str | None:
        loop = asyncio.get_running_loop()
        probes: list[asyncio.Future[Any]] = []
        now = time.monotonic()
        for index in range(len(self._queues)):
            if self._busy_since[index] is not None:
                # Busy is alive as long as its batch is young (checked by the
                # caller): no probe to queue behind it.
                continue
            fut: asyncio.Future[Any] = loop.create_future()
            probes.append(fut)
            self._enqueue(index, Work(nothing, loop, fut))
        try:
            async with asyncio.timeout(timeout):
                await asyncio.gather(*probes)
        except TimeoutError:
            return f"a trivial write did not commit within {timeout:g} s"
        except Exception as exc:
            return f"a trivial write failed: {type(exc).__name__}: {exc}"
        self._probed_ok_at = now
        return None

    def write_sync(self, fn: Callable[[Tx], T]) -> T:
        """For the CLI and bulk tools: one transaction on the calling thread."""
        with self.write_engine.connect() as conn, conn.begin():
            return fn(Tx(conn, self.clock.now()))

    def _writer_loop(self, index: int) -> None:
        inbox = self._queues[index]
        conn: Connection | None = None
        batch: list[Work[Any]] = []
        try:
            while True:
                batch = []
                first = inbox.get()
                if first is _STOP:
                    return
                batch = [first]
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
                self._busy_since[index] = time.monotonic()
                try:
                    conn = self._batches.run(conn, batch, inbox)
                except Exception as exc:
                    # Nothing may stop the writer: every later write would hang.
                    log.exception("db.batch_crashed", batch=len(batch))
                    error = StorageUnavailable(f"the write failed: {type(exc).__name__}: {exc}")
                    settle([(w, None, error) for w in batch])
                    discard(conn)
                    conn = None
                self._busy_since[index] = None
                batch = []
                if stop:
                    return
        finally:
            # Only a BaseException (SystemExit…) gets here with work in hand: its
            # callers, and everyone queued behind them, get an error, not a hang.
            discard(conn)
            self._stopped[index] = True
            stopped = StorageUnavailable(f"{self._threads[index].name} stopped")
            settle([(w, None, stopped) for w in batch])
            self._fail_queued(index, "the writer thread stopped")

    # -- the read path ---------------------------------------------------------
    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        with self.read_engine.connect() as conn:
            return fn(conn)

    async def read(self, fn: Callable[[Connection], T]) -> T:
        return await anyio.to_thread.run_sync(self.read_sync, fn)

    async def read_small(self, fn: Callable[[Connection], T]) -> T:
        """A read of a row or two by an indexed key, such as every request's credentials.

        On SQLite it runs right here, on the event loop's own connection: such a read
        in WAL mode takes tens of microseconds and never waits for the writer, while
        the hop to a worker thread cost more than the read itself (reading the token
        on every API request took ingest from 820 to 351 msg/s). PostgreSQL is across
        a network, so there it is an ordinary read in a thread.
        """
        if not self.is_sqlite:
            return await self.read(fn)
        if self._loop_reader is None:
            self._loop_reader = self.read_engine.connect()
        conn = self._loop_reader
        try:
            return fn(conn)
        finally:
            conn.rollback()  # end the read transaction: no snapshot is held between calls
