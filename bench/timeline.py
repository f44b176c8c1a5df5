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
import os
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from _corpus import products_for
from _load import load, load_postgres
from _queries import measure


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
