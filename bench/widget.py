"""Live chat under load: 500 visitors' WebSockets, one message each every 2 seconds,
and how long each takes to reach an agent's live inbox.

    python bench/widget.py [--visitors 500] [--interval 2] [--duration 20] [--keep]

One `threadline serve` on SQLite with a chat inbox (set up with the CLI, as a user
would). Every visitor is a real WebSocket on /widget/ws from its own loopback
address (127.0.1.x and on: the per-address limit on new visitors is per address,
as it is for real visitors), with the Origin a browser on the business's site
sends. After its hello, each visitor sends a message every --interval seconds,
its first one at a random offset so the load is even. One agent holds the live
inbox stream (/ui/stream, Server-Sent Events, as the agent's tab does); the text
of each message carries a marker, and its latency is the time from just before
the visitor's frame is written to the read that brought the row showing it in the
agent's stream. The visitor's own ack (stored) is timed too.

It prints the latency p50/p99 visitor -> agent stream, the ack p50/p99, the
server's CPU and peak RSS (server and its workers), the bundle size of widget.js,
and the targets next to them: p99 <= 50 ms, RSS <= 400 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import re
import time
import uuid
from dataclasses import dataclass, field

import websockets
from _common import NAN, percentile, print_machine
from _server import (
    Server,
    Session,
    add_common_args,
    cpu_seconds,
    in_tx,
    open_sessions,
    run_benchmark,
)
from hostile import RssWatch
from widget_bundle import bundle_sizes

TARGET_P99_MS = 50.0
TARGET_RSS_MB = 400.0
ORIGIN = "http://localhost:8765"  # the business's site, as the visitors' browsers name it
KEY = "bench-chat"
MARKER = re.compile(rb"wb-(\d+)-(\d+)")
MAX_TAIL = 1 << 20


class AgentStream(asyncio.Protocol):
    """The agent's live inbox: the first arrival of each message marker in a row."""

    def __init__(self, request: bytes, ready: asyncio.Future[None]) -> None:
        self.request, self.ready = request, ready
        self.head = self.tail = b""
        self.arrivals: dict[tuple[int, int], float] = {}
        self.resyncs = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        if not self.ready.done():
            self.head += data
            headers, sep, body = self.head.partition(b"\r\n\r\n")
            if not sep or b"retry:" not in body:
                if sep and headers.split(b" ", 2)[1] != b"200":
                    self.ready.set_exception(RuntimeError(f"stream answered {headers[:40]!r}"))
                return
            self.ready.set_result(None)
            data, self.head = body, b""
        frames = (self.tail + data).split(b"\n\n")
        tail = frames.pop()
        self.tail = tail if len(tail) <= MAX_TAIL else b""
        for frame in frames:
            if b"event: resync" in frame:
                self.resyncs += 1
            for m in MARKER.finditer(frame):
                self.arrivals.setdefault((int(m.group(1)), int(m.group(2))), now)


@dataclass
class Visitor:
    n: int
    sent: dict[int, float] = field(default_factory=dict)
    acked: dict[int, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@dataclass
class Schedule:
    """When the visitors send: set once every socket is open, then ``go`` is set."""

    interval: float
    go: asyncio.Event = field(default_factory=asyncio.Event)
    start: float = 0.0
    stop: float = 0.0


async def visitor(v: Visitor, port: int, plan: Schedule) -> None:
    # 127.0.1.1, 127.0.1.2, ...: one address per visitor, as real visitors have
    host = f"127.0.{1 + v.n // 250}.{1 + v.n % 250}"
    url = f"ws://127.0.0.1:{port}/widget/ws?inbox={KEY}"
    async with websockets.connect(
        url, origin=ORIGIN, local_addr=(host, 0), open_timeout=60, ping_interval=None
    ) as ws:
        await ws.send(json.dumps({"type": "hello", "v": 1, "since": 0}))
        cids: dict[str, int] = {}

        async def read() -> None:
            async for raw in ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                if frame.get("type") == "ack" and frame.get("cid") in cids:
                    v.acked.setdefault(cids[frame["cid"]], now)
                elif frame.get("type") == "error":
                    v.errors.append(str(frame.get("code")))

        reader = asyncio.create_task(read())
        await plan.go.wait()
        k = 0
        next_at = plan.start + random.random() * plan.interval
        while next_at < plan.stop:
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            k += 1
            cid = f"wb{v.n:05d}{k:06d}{uuid.uuid4().hex[:8]}"
            cids[cid] = k
            v.sent[k] = time.perf_counter()
            await ws.send(json.dumps({"type": "send", "cid": cid, "text": f"wb-{v.n}-{k} hi"}))
            next_at += plan.interval
        await asyncio.sleep(3.0)  # the last acks
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def loop_lag(out: list[float]) -> None:
    """How late this process's loop wakes from a 10 ms sleep, in ms."""
    while True:
        t = time.perf_counter()
        await asyncio.sleep(0.01)
        out.append((time.perf_counter() - t - 0.01) * 1000)


async def measure(server: Server, session: Session, args: argparse.Namespace) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()
    request = (
        f"GET /ui/stream?inbox=1&view=all HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Accept: text/event-stream\r\nCookie: {session.cookie_header()}\r\n\r\n"
    ).encode()
    _, agent = await loop.create_connection(
        lambda: AgentStream(request, ready), "127.0.0.1", server.port
    )
    await asyncio.wait_for(ready, 30)
    visitors = [Visitor(n) for n in range(args.visitors)]
    plan = Schedule(args.interval)
    t_connect = time.perf_counter()

    async def one(v: Visitor) -> None:
        try:
            await visitor(v, server.port, plan)
        except Exception as exc:  # a refused or dropped socket is a result, not a crash
            v.errors.append(type(exc).__name__)

    # Connect in waves: a real site's visitors do not all arrive in one millisecond.
    tasks = []
    for i in range(0, len(visitors), 50):
        tasks += [asyncio.create_task(one(v)) for v in visitors[i : i + 50]]
        await asyncio.sleep(0.05)
    await asyncio.sleep(2.0)
    connected = time.perf_counter() - t_connect
    assert server.proc is not None
    rss = RssWatch(server.proc.pid)
    plan.start = time.perf_counter()
    plan.stop = plan.start + args.warmup + args.duration
    measured_from = plan.start + args.warmup
    cpu0, wall0, own0 = cpu_seconds(server.proc.pid), time.perf_counter(), time.process_time()
    lag: list[float] = []
    watch = asyncio.create_task(loop_lag(lag))
    plan.go.set()
    await asyncio.gather(*tasks)
    watch.cancel()
    cpu = cpu_seconds(server.proc.pid) - cpu0
    wall = time.perf_counter() - wall0
    own = time.process_time() - own0
    peak = max(rss.take_peak(), rss.field("VmHWM"))
    rss.stop()
    lat, acks, sent, lost = [], [], 0, 0
    for v in visitors:
        for k, t0 in v.sent.items():
            if t0 < measured_from:
                continue
            sent += 1
            arrived = agent.arrivals.get((v.n, k))
            if arrived is None:
                lost += 1
            else:
                lat.append((arrived - t0) * 1000)
            if k in v.acked:
                acks.append((v.acked[k] - t0) * 1000)
    errors: dict[str, int] = {}
    for v in visitors:
        for e in v.errors:
            errors[e] = errors.get(e, 0) + 1
    print(
        f"  {args.visitors} visitors connected in {connected:.1f} s; "
        f"{sent} messages measured over {args.duration:g} s ({sent / args.duration:.0f}/s)"
    )
    print(f"  errors: {errors or 'none'}; agent stream resyncs: {agent.resyncs}")
    print(
        f"  visitor -> agent stream: p50 {percentile(lat, 50):.1f} ms, "
        f"p99 {percentile(lat, 99):.1f} ms, max {max(lat, default=NAN):.0f} ms; "
        f"not seen: {lost}"
    )
    print(
        f"  visitor ack (stored): p50 {percentile(acks, 50):.1f} ms, "
        f"p99 {percentile(acks, 99):.1f} ms"
    )
    print(
        f"  server CPU {100 * cpu / wall:.0f}% of one core; peak RSS {peak:.0f} MB "
        "(server and its workers, sampled every 100 ms, and its kernel high-water mark)"
    )
    print(
        f"  this client: CPU {100 * own / wall:.0f}% of one core, event-loop lag p99 "
        f"{percentile(lag, 99):.1f} ms (a late loop delays the arrival times it records)"
    )
    return {"p99": percentile(lat, 99), "rss": peak, "lost": lost, "errors": sum(errors.values())}


def prepare(server: Server) -> Session:
    server.cli("migrate")
    server.cli("user", "add", "bench@acme.test", "--role", "admin", "--password", "bench-pass")
    server.cli("inbox", "add", "chat", "--address", KEY, "--name", "Site", "--origin", ORIGIN)
    url = server.env["THREADLINE_DATABASE_URL"]
    user_id = in_tx(
        url,
        lambda tx: tx.conn.exec_driver_sql(
            "SELECT id FROM users WHERE email = 'bench@acme.test'"
        ).scalar_one(),
    )
    return in_tx(url, lambda tx: open_sessions(tx, [user_id]))[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_common_args(ap)
    ap.set_defaults(duration=20.0, warmup=4.0)
    ap.add_argument("--visitors", type=int, default=500, help="visitor sockets (500)")
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between messages (2)")
    args = ap.parse_args()
    print_machine(f"{args.visitors} visitor WebSockets and one agent stream in one process")
    minified, gzipped = bundle_sizes()
    print(f"widget.js: {minified} bytes minified, {gzipped} bytes gzipped (budget 30720)")

    def phases(server: Server, session: Session) -> bool:
        fig = asyncio.run(measure(server, session, args))
        print("\n== targets")
        print(
            f"  visitor -> agent p99 {fig['p99']:.1f} ms; target <= {TARGET_P99_MS:g} ms: "
            f"{'MET' if fig['p99'] <= TARGET_P99_MS else 'MISSED'}"
        )
        print(
            f"  peak RSS {fig['rss']:.0f} MB; target <= {TARGET_RSS_MB:g} MB: "
            f"{'MET' if fig['rss'] <= TARGET_RSS_MB else 'MISSED'}"
        )
        return fig["p99"] <= TARGET_P99_MS and fig["rss"] <= TARGET_RSS_MB and not fig["lost"]

    run_benchmark(args, prepare, phases, verdicts=("all targets met", "see MISSED above"))


if __name__ == "__main__":
    main()
