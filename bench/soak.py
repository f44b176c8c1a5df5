"""The crash soak: `kill -9` a real `threadline serve` at random points under inbound
load on three edges at once, and check that every acknowledged message is stored once.

    python bench/soak.py [--kills 20] [--min-up 0.5] [--max-up 3] [--skip-sqlite]
                         [--skip-postgres] [--postgres URL] [--keep]

For each database (a fresh SQLite file, and a fresh PostgreSQL database created
from --postgres and dropped afterwards) it sets up an admin, an API token and an
api, email and Twilio SMS inbox with the CLI, serves them, and starts one client
process per edge (bench/_soak_clients.py): the API, SMTP and the signed Twilio SMS
webhook. The server is killed with SIGKILL --kills times, each after a random
uptime, and restarted. The clients retry what was not acknowledged and record only
what was. Then the stored rows are matched to the acknowledged keys by provider id:
`acknowledged: N, present: N, duplicated: 0, lost: 0`. Exit status 1 if any
database lost or duplicated a message, or could not be tested.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import shutil
import signal
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from _server import Server, create_pg_database, drop_pg_database
from _soak_clients import ACCOUNT_SID, AUTH_TOKEN, EDGES, EMAIL_TO, TWILIO_NUMBER, Target
from _soak_clients import start_clients as start_load

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
DRAIN_SECONDS = 60.0  # after the last restart, for the messages still in hand


def sa_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)


def prepare(server: Server) -> str:
    """What a new user does: migrate, an admin and a token, then the three inboxes."""
    server.cli("migrate")
    server.cli("user", "add", "soak@acme.test", "--role", "admin", "--password", "soak-pw")
    token = server.cli("token", "add", "--user", "soak@acme.test").strip().splitlines()[-1]
    server.cli("inbox", "add", "api", "--address", "acme-app", "--name", "App")
    server.cli("inbox", "add", "email", "--address", EMAIL_TO)
    sms = ["--address", TWILIO_NUMBER, "--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN]
    server.cli("inbox", "add", "sms", "--name", "SMS", *sms)
    return token


# -- the count --------------------------------------------------------------------------
def stored_keys(url: str, run: str) -> tuple[Counter[str], Counter[str]]:
    """Per key of this run: message rows, and receipt rows (by the receipt's own
    provider id, or linked to the message, whichever finds more)."""
    found = re.compile(rf"soak{run}-[a-z]+-\d+-\d+|SM{run}[0-9a-f]{{24}}")
    like = {"pat": f"%{run}%"}
    engine = sa.create_engine(sa_url(url))
    try:
        with engine.connect() as c:
            msgs = c.execute(
                sa.text(
                    "SELECT provider_message_id FROM messages WHERE provider_message_id LIKE :pat"
                ),
                like,
            ).scalars()
            messages = Counter(m.group(0) for p in msgs if (m := found.search(p or "")))
            own = c.execute(
                sa.text(
                    "SELECT provider_message_id FROM inbound_receipts "
                    "WHERE provider_message_id LIKE :pat"
                ),
                like,
            ).scalars()
            by_own = Counter(m.group(0) for p in own if (m := found.search(p or "")))
            linked = c.execute(
                sa.text(
                    "SELECT m.provider_message_id FROM inbound_receipts r "
                    "JOIN messages m ON m.id = r.message_id WHERE m.provider_message_id LIKE :pat"
                ),
                like,
            ).scalars()
            by_link = Counter(m.group(0) for p in linked if (m := found.search(p or "")))
    finally:
        engine.dispose()
    receipts = Counter({k: max(by_own[k], by_link[k]) for k in by_own.keys() | by_link.keys()})
    return messages, receipts


def verdict(label: str, acked: list[str], messages: Counter[str], receipts: Counter[str]) -> bool:
    acked_set = set(acked)
    present = sum(1 for k in acked_set if messages[k] >= 1 and receipts[k] >= 1)
    duplicated = sum(1 for k in acked_set if messages[k] > 1 or receipts[k] > 1)
    lost = len(acked_set) - present
    repeated_acks = len(acked) - len(acked_set)  # a key acknowledged twice is a client bug
    extra = sum(1 for k in messages if k not in acked_set)
    print(f"  stored but never acknowledged: {extra}; keys acknowledged twice: {repeated_acks}")
    lost_keys = [k for k in acked_set if not messages[k] or not receipts[k]]
    if lost_keys:
        print(f"  lost, first few: {sorted(lost_keys)[:5]}")
    dups = [k for k in acked_set if messages[k] > 1 or receipts[k] > 1]
    if dups:
        first = [(k, messages[k], receipts[k]) for k in dups[:5]]
        print(f"  duplicated (key, messages, receipts), first few: {first}")
    print(
        f"{label}: acknowledged: {len(acked_set)}, present: {present}, "
        f"duplicated: {duplicated}, lost: {lost}"
    )
    return duplicated == 0 and lost == 0 and repeated_acks == 0


# -- one database -----------------------------------------------------------------------
def soak(label: str, url: str, tmp: Path, args: argparse.Namespace) -> bool:
    print(f"\n== {label}: {args.kills} x kill -9, random uptime {args.min_up:g}-{args.max_up:g} s")
    server = Server(tmp, profile=False)
    server.env["THREADLINE_DATABASE_URL"] = url
    token = prepare(server)
    run = uuid.uuid4().hex[:8]
    target = Target(http=server.url, smtp_port=server.smtp_port, token=token, run=run)
    stop, abort = mp.Event(), mp.Event()
    clients = start_load(target, tmp, stop, abort)
    rng = random.Random(args.seed)
    starts: list[float] = []
    t0 = time.monotonic()
    try:
        for kill in range(args.kills + 1):
            s0 = time.monotonic()
            server.start()
            starts.append(time.monotonic() - s0)
            if kill == args.kills:
                break
            time.sleep(rng.uniform(args.min_up, args.max_up))
            assert server.proc is not None
            server.proc.send_signal(signal.SIGKILL)
            server.proc.wait()
            server.stop()  # closes its log files; the process is already gone
        # Served once more, undisturbed: every message still in hand gets its 2xx/250.
        stop.set()
        deadline = time.monotonic() + DRAIN_SECONDS
        for _, p, _ in clients:
            p.join(timeout=max(0.0, deadline - time.monotonic()))
        if any(p.is_alive() for _, p, _ in clients):
            print(f"  clients still retrying after {DRAIN_SECONDS:g} s; giving up on them")
            abort.set()
            for _, p, _ in clients:
                p.join(timeout=30)
    finally:
        stop.set()
        if not server.alive():
            print(f"  server is down; stderr tail:\n{server.stderr_tail()}")
        server.stop()
        for _, p, _ in clients:
            if p.is_alive():
                abort.set()
                p.join(timeout=30)
    elapsed = time.monotonic() - t0
    print(
        f"  {args.kills} kills in {elapsed:.0f} s; restart to /healthz: "
        f"median {sorted(starts)[len(starts) // 2]:.1f} s, max {max(starts):.1f} s"
    )
    acked: list[str] = []
    for edge, _, out in clients:
        if not out.exists():
            print(f"  {edge.name}: the client process wrote no results")
            return False
        data = json.loads(out.read_text())
        acked += data["acked"]
        outcomes = ", ".join(f"{k} x{v}" for k, v in sorted(data["outcomes"].items()))
        print(
            f"  {edge.name} ({edge.threads} senders): {len(data['acked'])} acknowledged; {outcomes}"
        )
    messages, receipts = stored_keys(url, run)
    return verdict(label, acked, messages, receipts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--kills", type=int, default=20, help="kill -9 per database (default 20)")
    ap.add_argument("--min-up", type=float, default=0.5, help="shortest uptime before a kill, s")
    ap.add_argument("--max-up", type=float, default=3.0, help="longest uptime before a kill, s")
    ap.add_argument("--postgres", default=PG_ADMIN_URL, help=f"admin URL (default {PG_ADMIN_URL})")
    ap.add_argument("--skip-sqlite", action="store_true")
    ap.add_argument("--skip-postgres", action="store_true")
    ap.add_argument("--seed", type=int, default=None, help="seed the kill times")
    ap.add_argument("--keep", action="store_true", help="keep the temp dirs (DB, logs)")
    args = ap.parse_args()
    senders = ", ".join(f"{e.name} x{e.threads}" for e in EDGES)
    print(
        f"CPUs: {os.cpu_count()}; the server shares them with 3 client processes "
        f"({senders} senders, one message in flight each)"
    )
    results: dict[str, bool] = {}
    for label in ("sqlite", "postgres"):
        if getattr(args, f"skip_{label}"):
            continue
        tmp = Path(tempfile.mkdtemp(prefix=f"threadline-soak-{label}-"))
        url = f"sqlite:///{tmp / 'soak.db'}"
        try:
            if label == "postgres":
                url = create_pg_database(args.postgres, "threadline_soak")
            results[label] = soak(label, url, tmp, args)
        except Exception as exc:
            print(f"{label}: FAILED: {type(exc).__name__}: {exc}")
            results[label] = False
        finally:
            if label == "postgres" and url.startswith("postgres") and not args.keep:
                drop_pg_database(args.postgres, url)
            if args.keep:
                print(f"  kept {tmp}" + (f" and {url}" if label == "postgres" else ""))
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    ok = bool(results) and all(results.values())
    print("\nRESULT:", "every acknowledged message stored once" if ok else "see problems above")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
