"""Bulk-loading the generated workspace: SQLite with executemany and the FTS
triggers dropped during the load, PostgreSQL with COPY and the tsvector column
added after; both print the same two summary lines."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from _dataset import Dataset

from threadline.storage.fts import SQLITE_TRIGGERS, create_fts, drop_fts
from threadline.storage.migrate import upgrade

__all__ = ["CHUNK", "close_bulk", "insert_tables", "load", "load_postgres", "open_bulk"]

CHUNK = 50_000
Table = tuple[str, tuple[str, ...], Iterable[tuple[Any, ...]]]  # name, columns, rows


def load(path: Path, n_messages: int, n_customers: int, seed: int) -> None:
    """SQLite: executemany in 50k-row chunks, one transaction per table, FTS rebuilt after."""
    t_all = time.perf_counter()
    upgrade(f"sqlite:///{path}")
    con = open_bulk(path)
    ds = Dataset(n_messages, n_customers, seed)
    t1 = time.perf_counter()
    rows = insert_tables(con, ds.tables())
    t_rows = time.perf_counter() - t1
    t2 = time.perf_counter()
    close_bulk(con)
    t_fts = time.perf_counter() - t2
    _load_summary(ds, rows, t_rows, t_fts, time.perf_counter() - t_all, path.stat().st_size)


def open_bulk(path: Path) -> sqlite3.Connection:
    """A migrated SQLite database opened for a bulk load: no fsync, no foreign key
    checks, and the FTS table and triggers dropped (close_bulk rebuilds them)."""
    con = sqlite3.connect(path, isolation_level=None)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=OFF",
        "cache_size=-1000000",
        "temp_store=MEMORY",
        "foreign_keys=OFF",
    ):
        con.execute(f"PRAGMA {pragma}")
    drop_fts("sqlite", con.execute)
    left = con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?, ?)",
        SQLITE_TRIGGERS,
    ).fetchall()
    assert not left, left
    return con


def insert_tables(con: sqlite3.Connection, tables: Iterable[Table]) -> int:
    """Each table's rows in CHUNK-row executemany batches, one transaction per table."""
    rows = 0
    for table, cols, it in tables:
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        con.execute("BEGIN")
        batch: list[tuple[Any, ...]] = []
        for row in it:
            batch.append(row)
            if len(batch) >= CHUNK:
                con.executemany(sql, batch)
                rows += len(batch)
                batch.clear()
        con.executemany(sql, batch)
        rows += len(batch)
        con.execute("COMMIT")
    return rows


def close_bulk(con: sqlite3.Connection) -> None:
    """The search index rebuilt (its table, the three triggers, then 'rebuild'), closed."""
    create_fts("sqlite", con.execute)
    got = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert set(SQLITE_TRIGGERS) <= got, got
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def _load_summary(
    ds: Dataset, rows: int, t_rows: float, t_fts: float, total: float, size: int
) -> None:
    print(
        f"load: {ds.n_messages:,} messages, {ds.n_customers:,} customers, {len(ds.convs):,} "
        f"conversations; busiest customer has {max(ds.counts):,} messages"
    )
    print(
        f"load: plan {ds.plan_seconds:.1f}s, rows {t_rows:.1f}s ({rows:,} rows, "
        f"{rows / t_rows:,.0f} rows/s), search index {t_fts:.1f}s; total {total:.1f}s "
        f"({ds.n_messages / total:,.0f} messages/s end to end); {size / 1e6:,.0f} MB"
    )


def load_postgres(url: str, n_messages: int, n_customers: int, seed: int) -> bool:
    """PostgreSQL: COPY per table, the tsvector column and GIN index added after.

    Loads only into an empty database (after the migration); returns False when
    the database already holds messages, which are then reused as they are.
    """
    import psycopg

    t_all = time.perf_counter()
    upgrade(url)
    dsn = "postgresql://" + url.split("://", 1)[1]
    with psycopg.connect(dsn, autocommit=True) as con:
        if con.execute("SELECT EXISTS (SELECT 1 FROM messages)").fetchone()[0]:  # type: ignore[index]
            print("postgres: the database already holds messages; reusing them (no load)")
            return False
        con.execute("SET TIME ZONE 'UTC'")
        drop_fts("postgresql", con.execute)
        ds = Dataset(n_messages, n_customers, seed)
        t1 = time.perf_counter()
        rows = 0
        for table, cols, it in ds.tables():
            with con.transaction(), con.cursor() as cur:
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in it:
                        copy.write_row(row)
                        rows += 1
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        t_rows = time.perf_counter() - t1
        t2 = time.perf_counter()
        create_fts("postgresql", con.execute)  # generated tsvector column + GIN index
        con.execute("VACUUM ANALYZE")
        t_fts = time.perf_counter() - t2
        size = con.execute("SELECT pg_database_size(current_database())").fetchone()[0]  # type: ignore[index]
    _load_summary(ds, rows, t_rows, t_fts, time.perf_counter() - t_all, int(size))
    return True
