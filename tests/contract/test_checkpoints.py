"""SQLite's WAL is checkpointed by a thread of its own, never inside the writer's
commit (storage/checkpoint.py), and stays bounded under writes that never pause."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from threadline.clock import SystemClock
from threadline.storage.checkpoint import Checkpointer
from threadline.storage.db import Database, Tx

pytestmark = pytest.mark.anyio

PAGE = 4096
HANG = 20  # seconds: only there so a stuck thread fails the test


def _create(tx: Tx) -> None:
    tx.conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS blobs (id INTEGER PRIMARY KEY, b BLOB)")


def _insert(size: int) -> Any:
    def fn(tx: Tx) -> None:
        tx.conn.exec_driver_sql("INSERT INTO blobs (b) VALUES (zeroblob(?))", (size,))

    return fn


def _wal_pages(path: Path) -> int:
    """Pages in the WAL, as a passive checkpoint from another connection reports them."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        return int(conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])
    finally:
        conn.close()


async def _fill(db: Database, megabytes: int) -> None:
    await db.write(_create)
    for _ in range(megabytes * 2):
        await db.write(_insert(512 * 1024))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "wal.db"


async def test_the_writer_commits_past_a_thousand_pages_without_checkpointing(path: Path) -> None:
    db = Database(f"sqlite:///{path}", SystemClock())
    assert db.checkpointer is not None
    db.checkpointer.interval = 3600  # the thread never gets to run here
    try:
        await _fill(db, 8)
        autocheckpoint, _ = await db.write(
            lambda tx: tx.conn.connection.driver_connection.execute(  # type: ignore[union-attr]
                "PRAGMA wal_autocheckpoint"
            ).fetchone()[0]
        )
        # SQLite's default checkpoints in the commit past 1,000 pages and lets the
        # next write start the WAL over: it would never hold 8 MB here.
        assert autocheckpoint == 0
        assert _wal_pages(path) >= 8 * 1024 * 1024 // PAGE
    finally:
        db.close()


async def test_the_checkpoint_thread_restarts_a_long_wal_and_outlives_a_failed_pass(
    path: Path,
) -> None:
    db = Database(f"sqlite:///{path}", SystemClock())
    failures = iter([sqlite3.OperationalError("disk I/O error")])

    def connect() -> sqlite3.Connection:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    checkpointer = Checkpointer(connect, interval=0.02, restart_pages=256)
    db.checkpointer = checkpointer
    try:
        await _fill(db, 4)
        async with asyncio.timeout(HANG):
            while checkpointer.restarts == 0:
                await asyncio.sleep(0.02)
        await db.write(_insert(100))  # the first write after a RESTART rewinds the WAL
        assert _wal_pages(path) < 256
        assert checkpointer.alive
    finally:
        db.close()
    assert not checkpointer.alive
