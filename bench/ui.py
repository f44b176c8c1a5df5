"""The workspace's pages: the inbox over 10,000 open conversations, a conversation of
500 timeline entries, and the weight of the workspace's own JavaScript and CSS.

    python bench/ui.py [--open 10000] [--closed 10000] [--entries 500] [--requests 50]
                       [--keep] [--profile] [--seed 42]

Seeds a temp SQLite database: the inboxes (email, sms, whatsapp, api), an admin,
eight agents, three teams and a restricted agent who sees only their team's inboxes
(email and sms) with the actions, then the conversations, customers, messages, tags
and timeline entries in bulk (bench/_dataset.py Workspace, bench/_load.py). Sessions
are opened with the action a sign-in runs. Then a real `threadline serve` answers,
one request at a time over a kept-alive connection, --requests GETs of each page for
each agent after a few unmeasured ones: the time from sending the request to the
last byte of the page.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _common import percentile, print_machine
from _dataset import Staff, Workspace
from _load import close_bulk, insert_tables, open_bulk
from _server import ROOT, Server, Session, add_agents, in_tx, open_sessions

from threadline.actions.inboxes import add_inbox
from threadline.actions.teams import (
    create_team,
    set_inbox_scope,
    set_team_inboxes,
    set_team_members,
)
from threadline.storage.db import Tx
from threadline.storage.migrate import upgrade

TARGET_PAGE_P99_MS = 300.0
TARGET_ASSETS_KB = 100.0
WARMUP = 3
PROFILE_LINES = 80
ROW, ENTRY = 'id="c-', 'id="e-'  # an inbox row, a timeline entry
STATIC = ROOT / "src" / "threadline" / "web" / "static"
ASSETS = ("app.js", "app.css", "vendor/htmx.min.js")


# -- the seed -----------------------------------------------------------------------------
def staff(tx: Tx) -> tuple[Staff, int, int]:
    """Inboxes, agents and teams as an admin makes them; the admin's and the restricted
    agent's user ids."""
    inboxes = {
        ch: add_inbox(tx, channel=ch, name=ch.title(), address=addr, config={}, secret="bench")
        for ch, addr in (
            ("email", "support@acme.test"),
            ("api", "acme-app"),
            ("sms", "+14155550100"),
            ("whatsapp", "106540352242922"),
        )
    }
    (admin,) = add_agents(tx, 1, role="admin", prefix="admin")
    agents = add_agents(tx, 8)
    (restricted,) = add_agents(tx, 1, prefix="restricted")
    teams = []
    for name, channels, members in (
        ("Billing", ("email", "sms"), [restricted, *agents[:3]]),
        ("Shipping", ("api",), agents[3:6]),
        ("Tech", ("whatsapp",), agents[6:]),
    ):
        team = create_team(tx, name=name, actor="bench")
        set_team_inboxes(tx, team, [inboxes[ch] for ch in channels], actor="bench")
        set_team_members(tx, team, members, actor="bench")
        teams.append(team)
    set_inbox_scope(tx, restricted, all_inboxes=False, actor="bench")
    return Staff(inboxes, [*agents, restricted], teams), admin, restricted


def seed(server: Server, args: argparse.Namespace) -> tuple[Session, Session, int]:
    url = server.env["THREADLINE_DATABASE_URL"]
    t0 = time.perf_counter()
    upgrade(url)
    people, admin, restricted = in_tx(url, staff)
    ws = Workspace(people, args.open, args.closed, args.entries, args.seed)
    con = open_bulk(server.db)
    rows = insert_tables(con, ws.tables())
    close_bulk(con)
    sessions = in_tx(url, lambda tx: open_sessions(tx, [admin, restricted]))
    in_scope = sum(
        1
        for c in ws.convs
        if c[3] == "open" and c[2] in (people.inboxes["email"], people.inboxes["sms"])
    )
    print(
        f"seeded {args.open:,} open and {args.closed:,} resolved conversations ({in_scope:,} "
        f"open in the restricted agent's inboxes), {len(ws.messages):,} messages, "
        f"{len(ws.entries):,} timeline entries ({rows:,} rows) in {time.perf_counter() - t0:.1f} s"
    )
    return sessions[0], sessions[1], ws.long_id


# -- the pages ----------------------------------------------------------------------------
def timed_gets(
    client: httpx.Client, path: str, n: int
) -> tuple[list[float], httpx.Response | None, list[int]]:
    times, bad, last = [], [], None
    for i in range(WARMUP + n):
        t = time.perf_counter()
        r = client.get(path)
        elapsed = 1000 * (time.perf_counter() - t)
        if r.status_code != 200:
            bad.append(r.status_code)
        if i >= WARMUP:
            times.append(elapsed)
        last = r
    return times, last, bad


def page_line(label: str, times: list[float], r: httpx.Response | None, bad: list[int]) -> str:
    body = r.text if r is not None else ""
    shown = f"{body.count(ROW)} rows" if "inbox" in label else f"{body.count(ENTRY)} entries"
    return (
        f"  {label}: p50 {percentile(times, 50, 'inclusive'):.1f} ms, "
        f"p99 {percentile(times, 99, 'inclusive'):.1f} ms, max {max(times, default=0):.1f} ms; "
        f"{shown}, {len(r.content) / 1024 if r else 0:.0f} KB"
        + (f"; non-200: {len(bad)} ({sorted(set(bad))})" if bad else "")
    )


def pages(server: Server, who: dict[str, Session], long_id: int, n: int) -> bool:
    ok = True
    print(f"\n== pages: {n} GETs each, one at a time, after {WARMUP} unmeasured")
    for name, session in who.items():
        with httpx.Client(base_url=server.url, cookies=session.cookies(), timeout=30) as client:
            for label, path in (
                ("inbox", "/inbox?view=all"),
                ("conversation", f"/conversations/{long_id}"),
            ):
                times, last, bad = timed_gets(client, path, n)
                print(page_line(f"{label}, {name}", times, last, bad))
                p99 = percentile(times, 99, "inclusive")
                ok = ok and not bad and p99 <= TARGET_PAGE_P99_MS
    print(f"  target: p99 <= {TARGET_PAGE_P99_MS:g} ms each: {'MET' if ok else 'MISSED'}")
    return ok


def assets(server: Server) -> bool:
    print("\n== the workspace's own JavaScript and CSS (gzip -9)")
    total = 0
    for name in ASSETS:
        data = (STATIC / name).read_bytes()
        packed = len(gzip.compress(data, 9))
        total += packed
        print(f"  {name}: {len(data) / 1024:.1f} KB, gzipped {packed / 1024:.1f} KB")
    with httpx.Client(base_url=server.url, timeout=10) as client:
        r = client.get("/static/app.js", headers={"Accept-Encoding": "gzip"})
    served = r.headers.get("content-encoding") or "uncompressed"
    print(f"  total gzipped {total / 1024:.1f} KB (the server sends /static/app.js {served})")
    met = total / 1024 <= TARGET_ASSETS_KB
    print(f"  target: <= {TARGET_ASSETS_KB:g} KB gzipped in total: {'MET' if met else 'MISSED'}")
    return met


def profile(server: Server, who: dict[str, Session], long_id: int, runs: int = 20) -> None:
    """Where a page's time goes: the same app in this process, its reads run inline on
    the event loop's thread (pyinstrument samples one thread), ``runs`` GETs each."""
    asyncio.run(_profile(server, who, long_id, runs))


async def _profile(server: Server, who: dict[str, Session], long_id: int, runs: int) -> None:
    from pyinstrument import Profiler

    from threadline.bootstrap import bootstrap
    from threadline.settings import Settings
    from threadline.web.app import create_app

    settings = Settings(
        database_url=server.env["THREADLINE_DATABASE_URL"],
        data_dir=server.tmp,
        secret_key="bench",
        run_jobs=False,
    )
    container = bootstrap(settings)
    db = container.db

    async def inline(fn: Any) -> Any:
        return db.read_sync(fn)

    db.read = inline  # type: ignore[method-assign]
    await container.start(jobs=False)
    app = create_app(container, manage_lifecycle=False)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    try:
        for name, session in who.items():
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", cookies=session.cookies()
            ) as client:
                for path in ("/inbox?view=all", f"/conversations/{long_id}"):
                    await client.get(path)
                    profiler = Profiler(interval=0.0005)
                    with profiler:
                        for _ in range(runs):
                            await client.get(path)
                    print(f"\n== profile: GET {path} as {name}, {runs} times, in process")
                    text = profiler.output_text(unicode=False, color=False)
                    print("\n".join(text.splitlines()[:PROFILE_LINES]))
    finally:
        await container.aclose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--open", type=int, default=10_000, help="open conversations (10,000)")
    ap.add_argument("--closed", type=int, default=10_000, help="resolved ones (10,000)")
    ap.add_argument("--entries", type=int, default=500, help="the long conversation's (500)")
    ap.add_argument("--requests", type=int, default=50, help="measured GETs per page (50)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--profile", action="store_true", help="profile the pages in process")
    args = ap.parse_args()
    print_machine("one sequential HTTP client")
    tmp = Path(tempfile.mkdtemp(prefix="threadline-bench-ui-"))
    server = Server(tmp, profile=False)
    ok = False
    try:
        admin, restricted, long_id = seed(server, args)
        server.start()
        who = {"admin": admin, "restricted agent": restricted}
        ok = pages(server, who, long_id, args.requests)
        ok = assets(server) and ok
        if args.profile or not ok:
            profile(server, who, long_id)
    except Exception as exc:
        print(f"FAILED: {type(exc).__name__}: {exc}")
    finally:
        died = server.proc is not None and not server.alive()
        code = server.stop()
        if died:
            print(f"\nserver died (exit {code}); stderr tail:\n{server.stderr_tail()}")
        server.report_logs()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("\nRESULT:", "all targets met" if ok else "see MISSED above")


if __name__ == "__main__":
    main()
