"""Read-path benchmark: the customer timeline and message search over 1,000,000 messages.

    python bench/timeline.py [--messages 1000000] [--customers 100000] [--db PATH] [--keep]

Builds the real schema with ``threadline.storage.migrate.upgrade``, bulk-loads it
with the stdlib sqlite3 module (executemany, big transactions, the FTS triggers
dropped during the load and the index rebuilt afterwards from storage/fts.py),
then times the real query functions, ``customer_timeline`` and
``search_messages``, on the app's own read engine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.clock import SystemClock
from threadline.core.continuity import normalize_subject
from threadline.queries.search import search_messages
from threadline.queries.timeline import customer_timeline
from threadline.storage.db import Database
from threadline.storage.fts import SQLITE_TRIGGERS, create_fts, drop_fts
from threadline.storage.migrate import upgrade

TARGET_TIMELINE_P99_MS = 20.0
TARGET_SEARCH_P95_MS = 100.0
CHUNK = 50_000
# naive UTC, as SQLAlchemy stores UTCDateTime values on SQLite
START = datetime(2024, 1, 1, 8, 0, 0)  # noqa: DTZ001
SPAN = timedelta(days=700)

# -- the text -------------------------------------------------------------------------
OPENERS = [
    "Hi,",
    "Hello,",
    "Hi there,",
    "Good morning,",
    "Hello team,",
    "Hey,",
    "Dear support,",
    "Hi again,",
    "",
    "",
    "",
]
CUSTOMER = [
    "my order {o} has not arrived yet and the tracking page has not changed in days.",
    "I was charged twice for the {p}, please refund the duplicate payment.",
    "the {p} stopped working after the latest firmware update.",
    "I cannot log in to my account, the password reset link has expired.",
    "can you change the delivery address for order {o}?",
    "the {p} arrived damaged, the box was crushed during delivery.",
    "I would like to return the {p} and get a refund.",
    "is the {p} compatible with the {p2}?",
    "the invoice for order {o} shows the wrong VAT number.",
    "my subscription renewed although I cancelled it last month.",
    "the discount code is rejected at checkout.",
    "how long does shipping to Norway usually take?",
    "the app crashes when I open the settings page.",
    "I received the wrong colour of the {p}.",
    "please cancel order {o}, I ordered the {p} by mistake.",
    "the {p} battery drains within two hours.",
    "can I upgrade my plan and keep my data?",
    "where can I download the manual for the {p}?",
    "the replacement {p} you sent has the same problem.",
    "I still have not received my refund for order {o}.",
    "the courier left the parcel at the wrong address.",
    "two-factor codes are not arriving by SMS.",
    "I need a copy of the invoice for my accountant.",
    "the {p} makes a loud noise when it starts.",
]
FOLLOW = [
    "Thanks for your help.",
    "Any update on this?",
    "This is getting urgent.",
    "I attached a photo.",
    "Order number is {o}.",
    "I have been a customer for years.",
    "Please call me back.",
    "Thank you!",
    "It worked before the update.",
    "My colleague has the same issue with the {p2}.",
    "Still waiting for an answer.",
]
AGENT = [
    "Thanks for reaching out! I have checked order {o} and it is on its way.",
    "Sorry about that. I have issued a refund for the {p}, it takes 3-5 business days.",
    "Could you send us the serial number of the {p}?",
    "I have reset your password, please try the new link in your inbox.",
    "We have updated the delivery address on order {o}.",
    "A replacement {p} has been shipped, here is the return label for the damaged one.",
    "The {p} works with the {p2} after the latest update.",
    "I have cancelled the renewal and refunded the last charge.",
    "Our team is looking into the crash, we will get back to you shortly.",
    "Your invoice has been corrected and sent to your email address.",
]
SIGN = ["", "", "Best regards", "Thanks, Anna", "Cheers", "Kind regards, Ben"]
SUBJECTS = [
    "Order not delivered",
    "Refund request",
    "Damaged parcel",
    "Cannot log in",
    "Invoice question",
    "Return request",
    "Product question",
    "Subscription renewal",
    "App crashes",
    "Change delivery address",
    "Discount code",
    "Wrong item",
]
COMMON = ["order", "refund", "delivery", "password", "invoice", "update", "account"]
PAIRS = [
    "refund order",
    "password reset",
    "wrong address",
    "invoice vat",
    "firmware update",
    "parcel damaged",
    "delivery address",
    "return label",
]
CHANNELS = [("email", 0.5), ("api", 0.25), ("chat", 0.15), ("whatsapp", 0.1)]


def product_words(n: int, rng: random.Random) -> list[str]:
    """Pronounceable, unique, made-up product names: 'zorvex', 'kalimon'..."""
    onsets = [
        "b",
        "d",
        "f",
        "g",
        "k",
        "l",
        "m",
        "n",
        "p",
        "r",
        "s",
        "t",
        "v",
        "z",
        "br",
        "kr",
        "tr",
        "pl",
        "st",
        "qu",
        "x",
        "sh",
        "ch",
    ]
    vowels = ["a", "e", "i", "o", "u", "ai", "eo", "y"]
    codas = ["", "n", "x", "r", "s", "l", "m", "th", "k", "nd"]
    seen: set[str] = set()
    out: list[str] = []
    while len(out) < n:
        w = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(rng.randint(2, 3)))
        w += rng.choice(codas)
        if w not in seen and len(w) >= 5:
            seen.add(w)
            out.append(w)
    return out


def products_for(seed: int) -> list[str]:
    """The product vocabulary of a dataset: the same seed, the same words (for reused DBs)."""
    return product_words(4000, random.Random(seed * 7919 + 1))


class TextMaker:
    def __init__(self, rng: random.Random, products: Sequence[str]) -> None:
        self.rng = rng
        self.products = products
        # Zipf-like popularity: the first products are in ~10% of messages, the last in a handful.
        weights = [1.0 / (r + 1) ** 1.1 for r in range(len(products))]
        total = sum(weights)
        acc = 0.0
        self.cum = []
        for w in weights:
            acc += w / total
            self.cum.append(acc)

    def product(self) -> str:
        return self.rng.choices(self.products, cum_weights=self.cum, k=1)[0]

    def fill(self, template: str) -> str:
        if "{" not in template:
            return template
        return template.format(
            p=self.product(), p2=self.product(), o=f"#{self.rng.randint(100000, 9999999)}"
        )

    def customer(self) -> str:
        r = self.rng
        parts = [r.choice(OPENERS), self.fill(r.choice(CUSTOMER)).capitalize()]
        for _ in range(r.choice((0, 0, 1, 1, 2))):
            parts.append(self.fill(r.choice(FOLLOW)))
        parts.append(r.choice(SIGN))
        return " ".join(p for p in parts if p)

    def agent(self) -> str:
        r = self.rng
        return " ".join(p for p in ("Hi,", self.fill(r.choice(AGENT)), "Best, Acme Support") if p)


def ts(i: int, total: int) -> str:
    """Message i of total, spread over SPAN, in SQLAlchemy's SQLite DateTime format."""
    return (START + SPAN * (i / total)).strftime("%Y-%m-%d %H:%M:%S.%f")


# -- the load ----------------------------------------------------------------------------
class Dataset:
    """The generated workspace, planned up front; rows come out table by table."""

    def __init__(self, n_messages: int, n_customers: int, seed: int) -> None:
        t0 = time.perf_counter()
        self.n_messages = n = n_messages
        self.n_customers = nc = n_customers
        self.rng = rng = random.Random(seed)
        self.inbox_of = {ch: i for i, (ch, _) in enumerate(CHANNELS, start=1)}
        # Who writes each message: a long tail, as in real help desks (most customers write
        # once or twice, a few accounts write all the time).
        weights = [rng.paretovariate(1.5) for _ in range(nc)]
        scale = (n - nc) / sum(weights)
        counts = [1 + int(w * scale) for w in weights]
        short = n - sum(counts)
        for c in rng.choices(range(nc), weights=weights, k=max(short, 0)):
            counts[c] += 1
        while sum(counts) > n:  # rounding can overshoot by a few
            c = rng.randrange(nc)
            if counts[c] > 1:
                counts[c] -= 1
        self.counts = counts
        order = [c for c, k in enumerate(counts) for _ in range(k)]
        rng.shuffle(order)
        # Customers appear as they first write.
        self.first_seen: dict[int, int] = {}
        for i, c in enumerate(order):
            self.first_seen.setdefault(c, i)
        # Conversations: 1-3 per customer, each a consecutive run of that customer's messages.
        n_convs = [min(counts[c], rng.choice((1, 1, 2, 2, 3))) for c in range(nc)]
        self.conv_of = conv_of = [0] * n
        seen = [0] * nc
        conv_ids: list[list[int]] = [[] for _ in range(nc)]
        self.convs: list[dict[str, Any]] = []
        names = [ch for ch, _ in CHANNELS]
        shares = [w for _, w in CHANNELS]
        for i, c in enumerate(order):
            k = seen[c]
            slot = k * n_convs[c] // counts[c]
            if slot >= len(conv_ids[c]):
                self.convs.append(
                    {
                        "customer": c,
                        "first": i,
                        "last": i,
                        "last_in": i,
                        "channel": rng.choices(names, weights=shares)[0],
                        "subject": rng.choice(SUBJECTS),
                    }
                )
                conv_ids[c].append(len(self.convs))  # ids from 1, in order of first message
            cid = conv_ids[c][slot]
            conv_of[i] = cid
            self.convs[cid - 1]["last"] = i
            seen[c] = k + 1
        # The first message of a conversation is the customer's; then customer or agent.
        self.inbound = [
            self.convs[conv_of[i] - 1]["first"] == i or rng.random() < 0.6 for i in range(n)
        ]
        for i, inbound in enumerate(self.inbound):
            if inbound:
                self.convs[conv_of[i] - 1]["last_in"] = i
        self.products = products_for(seed)
        self.plan_seconds = time.perf_counter() - t0

    def ts(self, i: int) -> str:
        return ts(i, self.n_messages)

    def tables(self) -> Iterator[tuple[str, tuple[str, ...], Iterable[tuple[Any, ...]]]]:
        created = START.strftime("%Y-%m-%d %H:%M:%S.%f")
        yield (
            "users",
            ("id", "email", "name", "role", "password_hash", "created_at"),
            [(1, "agent@acme.test", "Anna Agent", "agent", None, created)],
        )
        yield (
            "inboxes",
            ("id", "channel", "name", "address", "config", "created_at"),
            [
                (
                    i,
                    ch,
                    ch.title(),
                    "support@acme.test" if ch == "email" else f"acme-{ch}",
                    "{}",
                    created,
                )
                for ch, i in self.inbox_of.items()
            ],
        )
        first = self.first_seen
        yield (
            "customers",
            ("id", "name", "merged_into_id", "created_at", "updated_at"),
            (
                (c + 1, f"Customer {c}", None, self.ts(first.get(c, 0)), self.ts(first.get(c, 0)))
                for c in range(self.n_customers)
            ),
        )
        yield (
            "identities",
            ("id", "customer_id", "kind", "value", "verified", "created_at"),
            (
                (c + 1, c + 1, "external", f"c{c}", True, self.ts(first.get(c, 0)))
                for c in range(self.n_customers)
            ),
        )
        yield (
            "conversations",
            (
                "id",
                "customer_id",
                "inbox_id",
                "status",
                "priority",
                "category",
                "assignee_id",
                "team",
                "escalation_level",
                "subject",
                "subject_key",
                "last_inbound_channel",
                "last_inbound_at",
                "last_activity_at",
                "resolved_at",
                "created_at",
                "updated_at",
            ),
            self._conversations(),
        )
        yield (
            "messages",
            (
                "id",
                "conversation_id",
                "customer_id",
                "inbox_id",
                "direction",
                "channel",
                "author_type",
                "author_id",
                "text",
                "full_text",
                "html",
                "provider_message_id",
                "recipient",
                "status",
                "error",
                "meta",
                "created_at",
                "sent_at",
            ),
            self._messages(),
        )
        yield (
            "timeline_entries",
            ("id", "customer_id", "conversation_id", "kind", "message_id", "data", "created_at"),
            self._timeline(),
        )

    def _conversations(self) -> Iterator[tuple[Any, ...]]:
        rng = random.Random(self.rng.random())
        n = self.n_messages
        for cid, r in enumerate(self.convs, start=1):
            last = self.ts(r["last"])
            resolved = r["last"] < n * 0.97 and rng.random() < 0.8
            subject = r["subject"] if r["channel"] == "email" else None
            status = "resolved" if resolved else rng.choice(("open", "open", "pending"))
            yield (
                cid,
                r["customer"] + 1,
                self.inbox_of[r["channel"]],
                status,
                "normal",
                None,
                None,
                None,
                1,
                subject,
                normalize_subject(subject),
                r["channel"],
                self.ts(r["last_in"]),
                last,
                last if resolved else None,
                self.ts(r["first"]),
                last,
            )

    def _messages(self) -> Iterator[tuple[Any, ...]]:
        rng = random.Random(self.rng.random())
        text = TextMaker(rng, self.products)
        for i in range(self.n_messages):
            mid = i + 1
            cid = self.conv_of[i]
            conv = self.convs[cid - 1]
            cust = conv["customer"] + 1
            channel = conv["channel"]
            inbox = self.inbox_of[channel]
            created = self.ts(i)
            if self.inbound[i]:
                if channel == "email":
                    pmid = f"<{mid:x}.{rng.getrandbits(40):x}@mail.example.com>"
                    meta = {
                        "sender": f"external:c{cust - 1}",
                        "message_id": pmid,
                        "subject": conv["subject"],
                        "to": "support@acme.test",
                        "cc": "",
                    }
                else:
                    pmid = f"{channel}:{mid:x}-{rng.getrandbits(32):x}"
                    meta = {"sender": f"external:c{cust - 1}"}
                yield (
                    mid,
                    cid,
                    cust,
                    inbox,
                    "inbound",
                    channel,
                    "customer",
                    None,
                    text.customer(),
                    None,
                    None,
                    pmid,
                    None,
                    "received",
                    None,
                    json.dumps(meta),
                    created,
                    created if channel == "email" else None,
                )
            else:
                yield (
                    mid,
                    cid,
                    cust,
                    inbox,
                    "outbound",
                    channel,
                    "agent",
                    1,
                    text.agent(),
                    None,
                    None,
                    f"<msg-{mid}@acme.test>",
                    f"external:c{cust - 1}",
                    "delivered",
                    None,
                    "{}",
                    created,
                    created,
                )

    def _timeline(self) -> Iterator[tuple[Any, ...]]:
        data = {
            (inbound, ch): json.dumps(
                {"direction": "inbound" if inbound else "outbound", "channel": ch}
            )
            for ch, _ in CHANNELS
            for inbound in (True, False)
        }
        for i in range(self.n_messages):
            conv = self.convs[self.conv_of[i] - 1]
            yield (
                i + 1,
                conv["customer"] + 1,
                self.conv_of[i],
                "message",
                i + 1,
                data[self.inbound[i], conv["channel"]],
                self.ts(i),
            )


def load(path: Path, n_messages: int, n_customers: int, seed: int) -> None:
    """SQLite: executemany in 50k-row chunks, one transaction per table, FTS rebuilt after."""
    t_all = time.perf_counter()
    upgrade(f"sqlite:///{path}")
    con = sqlite3.connect(path, isolation_level=None)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=OFF",
        "cache_size=-1000000",
        "temp_store=MEMORY",
        "foreign_keys=OFF",
    ):
        con.execute(f"PRAGMA {pragma}")
    # FTS: drop the triggers and the table during the load; create_fts rebuilds it after.
    drop_fts("sqlite", con.execute)
    left = con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?, ?)",
        SQLITE_TRIGGERS,
    ).fetchall()
    assert not left, left
    ds = Dataset(n_messages, n_customers, seed)
    t1 = time.perf_counter()
    rows = 0
    for table, cols, it in ds.tables():
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
    t_rows = time.perf_counter() - t1
    t2 = time.perf_counter()
    create_fts("sqlite", con.execute)  # the table, the three triggers, then 'rebuild'
    t_fts = time.perf_counter() - t2
    got = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert set(SQLITE_TRIGGERS) <= got, got
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    _load_summary(ds, rows, t_rows, t_fts, time.perf_counter() - t_all, path.stat().st_size)


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


# -- measuring -------------------------------------------------------------------------------
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
        search_messages(conn, text, customer_id=customer_id)
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
        return db.read_sync(lambda c: customer_timeline(c, cid, limit=50))

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
        return db.read_sync(lambda c: fn(c, q, customer_id=cid))

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


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument(
        "--db", type=Path, help="reuse this DB if it exists (skip the load); else load into it"
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary DB")
    ap.add_argument("--timeline-queries", type=int, default=2000)
    ap.add_argument("--searches", type=int, default=500)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument(
        "--explain", action="store_true", help="print query plans even if targets are met"
    )
    ap.add_argument(
        "--postgres",
        metavar="URL",
        help="also load the same data into this (empty, or already loaded) PostgreSQL database "
        "with COPY and run the same queries",
    )
    ap.add_argument("--skip-sqlite", action="store_true", help="only the --postgres run")
    args = ap.parse_args()

    print(
        f"CPUs: {os.cpu_count()}; Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}"
    )
    products = products_for(args.seed)
    if not args.skip_sqlite:
        tmpdir = None
        if args.db is not None:
            path = args.db.resolve()
            if path.exists():
                print(f"reusing {path} (no load)")
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                load(path, args.messages, args.customers, args.seed)
        else:
            tmpdir = tempfile.mkdtemp(prefix="threadline-timeline-")
            path = Path(tmpdir) / "timeline.db"
            load(path, args.messages, args.customers, args.seed)
        try:
            print(f"\nDB {path} ({path.stat().st_size / 1e6:,.0f} MB)")
            measure(f"sqlite:///{path}", products, args)
        finally:
            if tmpdir is not None and not args.keep:
                shutil.rmtree(tmpdir, ignore_errors=True)
            elif tmpdir is not None:
                print(f"kept {path}")
    if args.postgres:
        print(f"\n== PostgreSQL {args.postgres.rsplit('@', 1)[-1]}")
        try:
            load_postgres(args.postgres, args.messages, args.customers, args.seed)
        except Exception as exc:  # no server, no rights: say so, the SQLite figures stand
            print(f"postgres: skipped ({type(exc).__name__}: {str(exc).splitlines()[0]})")
            return
        measure(args.postgres, products, args)


if __name__ == "__main__":
    main()
