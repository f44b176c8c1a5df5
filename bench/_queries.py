"""The measured part of the timeline benchmark: the app's own customer_timeline
and search_messages on its read engine, their percentiles against the targets,
and the query plans when search misses its target (or --explain)."""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from _corpus import COMMON, PAIRS
from sqlalchemy.engine import Connection

from threadline.clock import SystemClock
from threadline.queries.scope import EVERYTHING
from threadline.queries.search import search_messages
from threadline.queries.timeline import customer_timeline
from threadline.storage.db import Database

__all__ = [
    "TARGET_SEARCH_P95_MS",
    "TARGET_TIMELINE_P99_MS",
    "app_search_sql",
    "explain",
    "explain_postgres",
    "measure",
    "pct",
    "timed",
]

TARGET_TIMELINE_P99_MS = 20.0
TARGET_SEARCH_P95_MS = 100.0


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1000, out


def explain(conn: Connection, sql: str, params: dict[str, Any]) -> list[str]:
    return [f"{r[3]}" for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]


def app_search_sql(
    conn: Connection, text: str, customer_id: int | None
) -> tuple[str, dict[str, Any]]:
    """The SQL search_messages runs, compiled with its parameters (for EXPLAIN QUERY PLAN)."""
    captured: list[tuple[str, Any]] = []

    def grab(_c: Any, _cur: Any, stmt: str, params: Any, _ctx: Any, _many: bool) -> None:
        captured.append((stmt, params))

    sa.event.listen(conn, "before_cursor_execute", grab)
    try:
        search_messages(conn, text, scope=EVERYTHING, customer_id=customer_id)
    finally:
        sa.event.remove(conn, "before_cursor_execute", grab)
    # the last: on SQLite a scoped search first counts, to pick its walk
    stmt, params = [(s, p) for s, p in captured if "message_fts" in s or "search_vector" in s][-1]
    return stmt, params


def explain_postgres(db: Database, customer_id: int) -> None:
    def plans(c: Connection) -> None:
        for label, cid in (("unscoped", None), ("scoped", customer_id)):
            sql, params = app_search_sql(c, "refund", cid)
            print(f"\nEXPLAIN ANALYZE, search_messages('refund'), {label}:")
            for (line,) in c.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params):
                print(f"    {line}")

    db.read_sync(plans)


def measure(url: str, products: Sequence[str], args: argparse.Namespace) -> None:
    """Time the app's own queries on its own read engine (sqlite:/// or postgresql://)."""
    rng = random.Random(args.seed + 1)
    db = Database(url, SystemClock())
    sqlite = db.is_sqlite

    def scalar(sql: str, **params: Any) -> Any:
        return db.read_sync(lambda c: c.execute(sa.text(sql), params).scalar())

    def matches(word: str) -> int:
        if sqlite:
            return int(
                scalar("SELECT count(*) FROM message_fts WHERE message_fts MATCH :q", q=f'"{word}"')
            )
        return int(
            scalar(
                "SELECT count(*) FROM messages WHERE search_vector @@ to_tsquery('simple', :q)",
                q=word,
            )
        )

    n_customers = int(scalar("SELECT max(id) FROM customers"))
    n_messages = int(scalar("SELECT max(id) FROM messages"))
    per_customer = db.read_sync(
        lambda c: c.execute(
            sa.text(
                "SELECT customer_id, count(*) AS n FROM timeline_entries GROUP BY customer_id "
                "ORDER BY n DESC LIMIT :k"
            ),
            {"k": max(1, n_customers // 100)},
        ).all()
    )
    heavy = [int(c) for c, _ in per_customer]
    df = {w: matches(w) for w in [*products[:20], products[1000], *products[-20:]]}
    print(
        f"\n[{db.dialect}] {n_messages:,} messages, {n_customers:,} customers; top 1% of "
        f"customers write {per_customer[0][1]:,}..{per_customer[-1][1]:,} messages each"
    )
    print(
        "document frequency of product words: most popular "
        f"{max(df[w] for w in products[:20]):,}, rank ~1000 {df[products[1000]]:,}, "
        f"least popular {min(df[w] for w in products[-20:]):,}; common word 'order' "
        f"{matches('order'):,}"
    )

    rare = products[-400:]
    mid = products[200:1200]

    # -- timeline
    def timeline(cid: int) -> Any:
        return db.read_sync(lambda c: customer_timeline(c, cid, scope=EVERYTHING, limit=50))

    for _ in range(100):  # warm the pool and the page cache
        timeline(rng.randint(1, n_customers))
    lat = []
    sizes = []
    for _ in range(args.timeline_queries):
        ms, page = timed(lambda: timeline(rng.randint(1, n_customers)))
        lat.append(ms)
        sizes.append(len(page))
    lat_heavy = [timed(lambda: timeline(rng.choice(heavy)))[0] for _ in range(200)]
    p99 = pct(lat, 99)
    print(
        f"\ntimeline: {args.timeline_queries} first pages (limit 50) for random customers, "
        f"mean {statistics.mean(sizes):.1f} entries"
    )
    print(
        f"timeline p50 {pct(lat, 50):.2f} ms, p99 {p99:.2f} ms (target p99 <= "
        f"{TARGET_TIMELINE_P99_MS:g} ms): {'MET' if p99 <= TARGET_TIMELINE_P99_MS else 'MISSED'}"
    )
    print(
        f"  busiest 1% of customers (full pages): p50 {pct(lat_heavy, 50):.2f} ms, "
        f"p99 {pct(lat_heavy, 99):.2f} ms"
    )

    # -- search
    kinds: list[tuple[str, str, int | None]] = []
    for i in range(args.searches):
        r = i % 20
        if r < 7:
            kinds.append(("selective", rng.choice(rare), None))
        elif r < 10:
            kinds.append(("mid", rng.choice(mid), None))
        elif r < 13:
            kinds.append(("common", rng.choice(COMMON), None))
        elif r < 16:
            kinds.append(
                (
                    "two-word",
                    rng.choice(PAIRS) if r % 2 else f"{rng.choice(COMMON)} {rng.choice(mid)}",
                    None,
                )
            )
        elif r < 18:
            kinds.append(("customer+common", rng.choice(COMMON), rng.randint(1, n_customers)))
        else:
            kinds.append(("customer+heavy", rng.choice(COMMON), rng.choice(heavy)))
    rng.shuffle(kinds)

    def call(fn: Callable[..., Any], q: str, cid: int | None) -> Any:
        return db.read_sync(lambda c: fn(c, q, scope=EVERYTHING, customer_id=cid))

    def run_search(fn: Callable[..., Any]) -> dict[str, list[float]]:
        for _, q, cid in kinds[:30]:  # warm
            call(fn, q, cid)
        by: dict[str, list[float]] = {}
        for kind, q, cid in kinds:
            t = time.perf_counter()
            call(fn, q, cid)
            by.setdefault(kind, []).append((time.perf_counter() - t) * 1000)
        return by

    def report(label: str, by: dict[str, list[float]], target: bool) -> float:
        every = [x for v in by.values() for x in v]
        p95 = pct(every, 95)
        verdict = ("MET" if p95 <= TARGET_SEARCH_P95_MS else "MISSED") if target else ""
        print(
            f"{label} p50 {pct(every, 50):.2f} ms, p95 {p95:.2f} ms (target p95 <= "
            f"{TARGET_SEARCH_P95_MS:g} ms), p99 {pct(every, 99):.2f} ms {verdict}".rstrip()
        )
        for kind, v in sorted(by.items()):
            print(
                f"  {kind:16s} n={len(v):3d}  p50 {pct(v, 50):8.2f} ms  p95 {pct(v, 95):8.2f} ms"
                f"  max {max(v):8.2f} ms"
            )
        return p95

    print(
        f"\nsearch: {args.searches} queries through search_messages (limit 20): 35% rare product "
        "words, 15% mid-popularity, 15% common words, 15% two words, 20% scoped to a customer"
    )
    app = run_search(search_messages)
    app_p95 = report("search", app, target=True)

    if not sqlite:
        if args.explain or app_p95 > TARGET_SEARCH_P95_MS:
            explain_postgres(db, heavy[0])
        db.close()
        return

    if args.explain or app_p95 > TARGET_SEARCH_P95_MS:
        print("\nEXPLAIN QUERY PLAN, search_messages('refund'):")

        def plans(c: Connection) -> None:
            for label, q, cid in (("unscoped", "refund", None), ("scoped", "refund", heavy[0])):
                sql, params = app_search_sql(c, q, cid)
                print(f"  app, {label}:")
                for line in explain(c, sql, params):
                    print(f"    {line}")

        db.read_sync(plans)
    db.close()
