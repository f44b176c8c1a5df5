"""Realtime latency: from an inbound API message to its row on 200 agents' live inboxes.

    python bench/realtime.py [--agents 200] [--rate 20] [--duration 10] [--redis URL]
                             [--postgres URL] [--skip-memory] [--skip-redis] [--keep]

Two runs. memory: one `threadline serve` on SQLite with the in-process broker.
redis: two `threadline serve` processes on two ports sharing a fresh PostgreSQL
database and a Redis database (flushed first; it must hold nothing but Threadline's
own keys), the agents split across both and every message posted to the first.

Each agent is a user with a session opened by the action a sign-in runs, holding one
Server-Sent Events stream on /ui/stream?inbox=1&view=all, all in this one process
(asyncio protocols that only look for the row's conversation id, so the clients'
own CPU stays small). Messages from new customers are POSTed to /api/v1/messages on
a fixed schedule, open loop; the latency of a message at one agent is the time from
just before its POST to the read that brought that conversation's `row` event.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis
from _common import NAN, percentile, print_machine
from _server import (
    Server,
    Session,
    add_agents,
    cpu_seconds,
    create_pg_database,
    drop_pg_database,
    in_tx,
    open_sessions,
)

TARGET_P99_MS = 50.0
REDIS_URL = "redis://127.0.0.1:6379/15"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
MAX_AGENTS = 5_000  # a process serves at most this many tabs (web/ui/stream.py)
WARMUP = 5  # messages before measuring: templates compile, connections open
DRAIN_SECONDS = 10.0  # after the last POST, for the last rows to arrive
MAX_TAIL = 1 << 20  # bytes of an unfinished event a client keeps (a row is ~1 KB)
_ROW_ID = re.compile(rb'id="c-(\d+)"')


# -- the agents' streams ------------------------------------------------------------------
class Stream(asyncio.Protocol):
    """One tab's SSE stream over a raw connection: the first arrival time of each
    conversation's `row` event, and nothing else parsed."""

    def __init__(self, request: bytes, ready: asyncio.Future[None]) -> None:
        self.request = request
        self.ready = ready
        self.head = b""
        self.tail = b""
        self.arrivals: dict[int, float] = {}
        self.resyncs = 0
        self.lost = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        if not self.ready.done():
            self.head += data
            headers, sep, body = self.head.partition(b"\r\n\r\n")
            if not sep:
                return
            status = headers.split(b" ", 2)[1]
            if status != b"200":
                self.ready.set_exception(RuntimeError(f"stream answered {status.decode()}"))
                return
            if b"retry:" not in body:
                return  # the tab is registered with the hub once this arrives
            self.ready.set_result(None)
            data, self.head = body, b""
        # Chunked transfer: each event is one chunk, so frames split on the blank line.
        frames = (self.tail + data).split(b"\n\n")
        tail = frames.pop()
        self.tail = tail if len(tail) <= MAX_TAIL else b""
        for frame in frames:
            if b"event: row\n" in frame:
                found = _ROW_ID.search(frame)
                if found:
                    self.arrivals.setdefault(int(found.group(1)), now)
            elif b"event: resync" in frame:
                self.resyncs += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.ready.done():
            self.ready.set_exception(RuntimeError(f"stream closed before it started: {exc}"))


async def open_stream(port: int, session: Session) -> Stream:
    loop = asyncio.get_running_loop()
    request = (
        f"GET /ui/stream?inbox=1&view=all HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Accept: text/event-stream\r\nCookie: {session.cookie_header()}\r\n\r\n"
    ).encode()
    ready: asyncio.Future[None] = loop.create_future()
    _, stream = await loop.create_connection(lambda: Stream(request, ready), "127.0.0.1", port)
    await asyncio.wait_for(ready, 30)
    return stream


# -- the messages -------------------------------------------------------------------------
@dataclass
class Sent:
    t0: float
    answered: float = NAN
    status: int = 0
    conversation_id: int | None = None


async def post_message(client: httpx.AsyncClient, run: str, i: int, out: list[Sent]) -> None:
    body = {
        "id": f"rt-{run}-{i}",
        "customer": {"external_id": f"rt-{run}-{i}"},  # a new customer: a new conversation
        "text": f"Hello, where is my order #{i}? It was due on Monday.",
    }
    sent = Sent(time.perf_counter())
    out.append(sent)
    try:
        r = await client.post("/api/v1/messages", json=body)
    except httpx.HTTPError:
        sent.answered = time.perf_counter()
        return
    sent.answered, sent.status = time.perf_counter(), r.status_code
    if r.status_code == 202:
        sent.conversation_id = r.json().get("conversation_id")


async def send(client: httpx.AsyncClient, run: str, count: int, rate: float) -> list[Sent]:
    """``count`` messages at ``rate`` a second on a fixed schedule: each goes when it is
    due, whether or not the ones before were answered."""
    out: list[Sent] = []
    tasks = []
    start = time.perf_counter()
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(post_message(client, run, i, out)))
    await asyncio.gather(*tasks)
    return out


async def drain(streams: list[Stream], sent: list[Sent], timeout: float) -> None:
    wanted = [s.conversation_id for s in sent if s.conversation_id is not None]
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if all(cid in st.arrivals for st in streams for cid in wanted):
            return
        await asyncio.sleep(0.05)


# -- one run ------------------------------------------------------------------------------
@dataclass
class Figures:
    connect_seconds: float = NAN
    sent: list[Sent] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # ms, every (message, agent)
    first: list[float] = field(default_factory=list)  # ms, per message: its first agent
    last: list[float] = field(default_factory=list)  # and its last
    by_process: dict[str, list[float]] = field(default_factory=dict)
    expected: int = 0
    resyncs: int = 0
    dropped: int = 0
    cpu: dict[str, float] = field(default_factory=dict)


async def measure(
    servers: list[Server], sessions: list[Session], token: str, args: argparse.Namespace
) -> Figures:
    fig = Figures()
    t = time.perf_counter()
    ports = [servers[i % len(servers)].port for i in range(len(sessions))]
    # A few at a time: 200 simultaneous connects would measure the accept queue.
    gate = asyncio.Semaphore(20)

    async def one(port: int, session: Session) -> Stream:
        async with gate:
            return await open_stream(port, session)

    streams = await asyncio.gather(*(one(p, s) for p, s in zip(ports, sessions, strict=True)))
    fig.connect_seconds = time.perf_counter() - t
    run = uuid.uuid4().hex[:8]
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=servers[0].url, headers=headers, timeout=30) as client:
        warm = await send(client, f"{run}w", WARMUP, 5.0)
        await drain(streams, warm, DRAIN_SECONDS)
        pids = {s.url: s.proc.pid for s in servers if s.proc is not None}
        cpu0 = {url: cpu_seconds(pid) for url, pid in pids.items()}
        me0, wall0 = time.process_time(), time.monotonic()
        fig.sent = await send(client, run, max(1, round(args.rate * args.duration)), args.rate)
        await drain(streams, fig.sent, DRAIN_SECONDS)
        wall = time.monotonic() - wall0
        fig.cpu = {url: (cpu_seconds(pid) - cpu0[url]) / wall for url, pid in pids.items()}
        fig.cpu["client (this process)"] = (time.process_time() - me0) / wall
    for stream, port in zip(streams, ports, strict=True):
        where = "same process" if port == servers[0].port else "other process"
        for s in fig.sent:
            if s.conversation_id is None:
                continue
            fig.expected += 1
            arrived = stream.arrivals.get(s.conversation_id)
            if arrived is not None:
                ms = 1000 * (arrived - s.t0)
                fig.latencies.append(ms)
                fig.by_process.setdefault(where, []).append(ms)
        fig.resyncs += stream.resyncs
        fig.dropped += stream.lost
    for s in fig.sent:
        got = [st.arrivals[s.conversation_id] for st in streams if s.conversation_id in st.arrivals]
        if got:
            fig.first.append(1000 * (min(got) - s.t0))
            fig.last.append(1000 * (max(got) - s.t0))
    for stream in streams:
        if stream.transport is not None:
            stream.transport.close()
    return fig


def spread(values: list[float]) -> str:
    worst = max(values, default=NAN)
    return (
        f"p50 {percentile(values, 50, 'inclusive'):.1f} ms, "
        f"p99 {percentile(values, 99, 'inclusive'):.1f} ms, "
        f"max {worst:.1f} ms"
    )


def report(fig: Figures, args: argparse.Namespace) -> bool:
    posts = [1000 * (s.answered - s.t0) for s in fig.sent]
    bad = sum(1 for s in fig.sent if s.status != 202 or s.conversation_id is None)
    print(f"  {len(fig.sent)} messages at {args.rate:g}/s: POST {spread(posts)}, non-202: {bad}")
    delivered = len(fig.latencies)
    share = 100 * delivered / fig.expected if fig.expected else 0.0
    print(
        f"  delivered {delivered}/{fig.expected} ({share:.2f}%), resyncs {fig.resyncs}, "
        f"streams dropped {fig.dropped}"
    )
    p99 = percentile(fig.latencies, 99, "inclusive")
    met = delivered == fig.expected and bad == 0 and p99 <= TARGET_P99_MS
    print(f"  POST -> row on every agent's stream: {spread(fig.latencies)}")
    # The gap between a message's first and last agent is the fan-out, tab after tab.
    print(f"    its first agent: {spread(fig.first)}")
    print(f"    its last agent:  {spread(fig.last)}")
    if len(fig.by_process) > 1:
        for where, values in sorted(fig.by_process.items()):
            print(f"    agents on the {where}: {spread(values)}")
    cpu = ", ".join(f"{who} {100 * share:.0f}%" for who, share in fig.cpu.items())
    print(f"  CPU, % of one core over the run: {cpu}")
    print(
        f"  target: p99 <= {TARGET_P99_MS:g} ms, every message to every agent: "
        f"{'MET' if met else 'MISSED'}"
    )
    return met


def prepare(server: Server, agents: int) -> tuple[str, list[Session]]:
    """An admin's API token and an api inbox with the CLI; the agents and their
    sessions with the actions, in one transaction."""
    server.cli("migrate")
    server.cli("user", "add", "bench@acme.test", "--role", "admin", "--password", "bench-password")
    token = server.cli("token", "add", "--user", "bench@acme.test").strip().splitlines()[-1]
    server.cli("inbox", "add", "api", "--address", "acme-app", "--name", "App")
    url = server.env["THREADLINE_DATABASE_URL"]
    sessions = in_tx(url, lambda tx: open_sessions(tx, add_agents(tx, agents)))
    return token, sessions


def run(servers: list[Server], args: argparse.Namespace) -> bool:
    ok = False
    try:
        token, sessions = prepare(servers[0], args.agents)
        for s in servers:  # one after another: each migrates the shared database first
            s.start()
        where = ", ".join(f":{s.port} (pid {s.proc.pid if s.proc else '?'})" for s in servers)
        print(f"  serving on {where}; messages go to :{servers[0].port}")
        fig = asyncio.run(measure(servers, sessions, token, args))
        print(f"  {len(sessions)} streams connected in {fig.connect_seconds:.1f} s")
        ok = report(fig, args)
    except Exception as exc:
        print(f"  FAILED: {type(exc).__name__}: {exc}")
    finally:
        for s in servers:
            died = not s.alive()
            if s.python_args and s.proc is not None and not died:
                # uvicorn re-raises SIGTERM after its shutdown, which would kill
                # pyinstrument before it writes; an interrupt it reports.
                s.proc.send_signal(signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    s.proc.wait(timeout=60)
            code = s.stop()
            if died:
                print(f"  server {s.url} died (exit {code}); stderr tail:\n{s.stderr_tail()}")
            s.report_logs()
            profile = s.tmp / "pyinstrument.txt"
            if profile.exists():
                print(f"  pyinstrument profile of {s.url} (its overhead slows it): {profile}")
    return ok


def server(tmp: Path, *, profile: bool = False) -> Server:
    tmp.mkdir()
    s = Server(tmp, profile=False)
    if profile:  # py-spy would see every thread; pyinstrument sees the event loop's
        out = ["-o", str(tmp / "pyinstrument.txt"), "-r", "text", "--show-all"]
        s.python_args = ["-m", "pyinstrument", *out]
    return s


def fresh_redis(url: str) -> None:
    """Empty the benchmark's Redis database, if it holds nothing but Threadline's keys."""
    with redis.Redis.from_url(url, socket_connect_timeout=2) as r:
        for key in r.scan_iter(count=1000):
            if not key.startswith(b"tl:"):
                raise RuntimeError(f"{url} holds other keys ({key!r}): pass an empty --redis db")
        r.flushdb()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=200, help="connected agents (200)")
    ap.add_argument("--rate", type=float, default=20.0, help="messages a second (20)")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds of messages (10)")
    ap.add_argument("--redis", default=REDIS_URL, help=f"an empty Redis db ({REDIS_URL})")
    ap.add_argument("--postgres", default=PG_ADMIN_URL, help=f"admin URL ({PG_ADMIN_URL})")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--skip-redis", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir and the databases")
    ap.add_argument(
        "--profile", action="store_true", help="run the first server under pyinstrument"
    )
    args = ap.parse_args()
    if not 1 <= args.agents <= MAX_AGENTS or not 0 < args.rate <= 1000 or args.duration <= 0:
        ap.error(f"--agents 1..{MAX_AGENTS}, --rate 0..1000 and a positive --duration")
    print_machine(f"{args.agents} SSE clients and the sender, one process")
    results: dict[str, bool | None] = {}  # None: skipped
    tmp = Path(tempfile.mkdtemp(prefix="threadline-bench-rt-"))
    try:
        if not args.skip_memory:
            print(f"\n== memory: one process, SQLite, {args.agents} agents")
            results["memory"] = run([server(tmp / "memory", profile=args.profile)], args)
        if not args.skip_redis:
            print(f"\n== redis: two processes, PostgreSQL, {args.agents} agents split")
            results["redis"] = run_redis(tmp, args)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    missed = [k for k, ok in results.items() if ok is False]
    skipped = [k for k, ok in results.items() if ok is None]
    verdict = "all targets met" if not missed else f"MISSED: {', '.join(missed)}"
    print("\nRESULT:", verdict + (f" ({', '.join(skipped)} skipped)" if skipped else ""))


def run_redis(tmp: Path, args: argparse.Namespace) -> bool | None:
    try:
        fresh_redis(args.redis)
        url = create_pg_database(args.postgres, "threadline_bench_rt")
    except Exception as exc:
        print(f"  redis: skipped ({type(exc).__name__}: {exc})")
        return None
    servers = []
    for name in ("a", "b"):
        s = server(tmp / name, profile=args.profile and name == "a")
        s.env["THREADLINE_DATABASE_URL"] = url
        s.env["THREADLINE_REDIS_URL"] = args.redis
        servers.append(s)
    try:
        return run(servers, args)
    finally:
        if args.keep:
            print(f"  kept {url} and {args.redis}")
        else:
            drop_pg_database(args.postgres, url)
            fresh_redis(args.redis)


if __name__ == "__main__":
    main()
