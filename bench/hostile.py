"""The hostile benchmark: does the server stay responsive and bounded while it ingests
maximum-size emails and fends off a login flood?

    python bench/hostile.py [--duration 20] [--api-connections 8] [--login-clients 40]
                            [--email-senders 2] [--email-bytes N] [--keep]

A real `threadline serve` on SQLite (set up with the CLI like bench/ingest.py), then
two phases of the same measured load, each --duration seconds:

- idle: wrk POSTs /api/v1/messages (the API channel, unique ids) on --api-connections
  connections, and a probe GETs /healthz 20 times a second on a fixed schedule;
- storm: the same, while --email-senders clients stream emails of --email-bytes
  (Settings.email_max_bytes by default) through the signed email webhook, one at a
  time each, and --login-clients clients POST /login with wrong passwords, each from
  its own loopback address.

It prints /healthz and API p50/p99 for each phase, the API rate during the storm as a
fraction of the idle rate, the server's peak RSS, and the targets next to them.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import re
import statistics
import sys
import threading
import time
from pathlib import Path

from _common import NAN, print_machine
from _hostile_load import Storm, healthz_probe, login_flood, start, stream_emails
from _server import ROOT, Server, add_common_args, cpu_seconds, run_benchmark
from _wrk import run_wrk
from ingest import WRK_LUA

sys.path.insert(0, str(ROOT / "src"))  # this worktree's Settings, as the server sees them
from threadline.settings import Settings

TARGET_HEALTHZ_P99_MS = 100.0
TARGET_RSS_MB = 400.0
TARGET_API_SHARE = 0.70
WEBHOOK_SECRET = "hostile-webhook-secret"
LOGIN_EMAIL = "hostile@acme.test"


def percentile(values: list[float], pct: int) -> float:
    """Within the samples (never extrapolated past the worst one), or NaN if none."""
    if len(values) < 2:
        return values[0] if values else NAN
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def prepare(server: Server) -> tuple[str, int]:
    server.cli("migrate")
    server.cli("user", "add", LOGIN_EMAIL, "--role", "admin", "--password", "the-right-one")
    token = server.cli("token", "add", "--user", LOGIN_EMAIL).strip().splitlines()[-1]
    server.cli("inbox", "add", "api", "--address", "acme-app", "--name", "App")
    out = server.cli(
        "inbox",
        "add",
        "email",
        "--address",
        "support@acme.test",
        "--webhook-secret",
        WEBHOOK_SECRET,
    )
    # `inbox add` prints the new inbox's id; the email webhook's path carries it.
    m = re.search(r"\(inbox (\d+)\)", out)
    if not m:
        raise RuntimeError(f"no inbox id in `inbox add` output: {out!r}")
    return token, int(m.group(1))


class RssWatch:
    """The resident set of the server and of the worker processes it starts (large
    payloads are parsed in a process of their own), summed and sampled every 100 ms,
    and the server's own kernel high-water mark."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def field(self, name: str, pid: int | None = None) -> float:
        try:
            for line in Path(f"/proc/{pid or self.pid}/status").read_text().splitlines():
                if line.startswith(name + ":"):
                    return int(line.split()[1]) / 1024  # kB -> MB
        except (OSError, ValueError):
            pass
        return NAN

    def tree(self) -> list[int]:
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                try:
                    todo.extend(int(c) for c in task.read_text().split())
                except (OSError, ValueError):
                    continue
        return pids

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            sizes = [self.field("VmRSS", pid) for pid in self.tree()]
            rss = sum(size for size in sizes if size == size)
            if rss:
                self.peak = max(self.peak, rss)

    def take_peak(self) -> float:
        peak, self.peak = self.peak, 0.0
        return peak

    def stop(self) -> None:
        self._stop.set()


def phase(
    name: str, server: Server, token: str, args: argparse.Namespace, rss: RssWatch
) -> dict[str, float]:
    lua = server.tmp / "post_message.lua"
    lua.write_text(WRK_LUA)
    stop = mp.Event()
    probe_out = server.tmp / f"healthz-{name}.json"
    probe = start(healthz_probe, (server.url, stop, probe_out))
    assert server.proc is not None
    cpu0, wall0 = cpu_seconds(server.proc.pid), time.monotonic()
    res, _ = run_wrk(
        f"{server.url}/api/v1/messages",
        lua,
        threads=1,
        connections=args.api_connections,
        duration=args.duration,
        script_args=(name, "5000", token, "1"),
    )
    cpu = cpu_seconds(server.proc.pid) - cpu0
    wall = time.monotonic() - wall0
    stop.set()
    probe.join(timeout=90)
    probe_data = json.loads(probe_out.read_text()) if probe_out.exists() else {}
    lat = probe_data.get("latencies_ms", [])
    bad = int(res.get("non202", res.get("non2xx", 0)) + res.get("socket_errors", 0))
    out = {
        "healthz_p50": percentile(lat, 50),
        "healthz_p99": percentile(lat, 99),
        "healthz_max": max(lat, default=NAN),
        "api_rps": res.get("rps", 0.0),
        "api_p50": res.get("p50", NAN),
        "api_p99": res.get("p99", NAN),
        "rss_peak": rss.take_peak(),
    }
    errors = ", ".join(f"{k} x{v}" for k, v in probe_data.get("errors", {}).items()) or "none"
    print(
        f"  {name}: /healthz p50 {out['healthz_p50']:.1f} ms, p99 {out['healthz_p99']:.1f} ms, "
        f"max {out['healthz_max']:.0f} ms ({len(lat)} probes, errors: {errors})"
    )
    print(
        f"  {name}: API {out['api_rps']:.0f} msgs/s, p50 {out['api_p50']:.1f} ms, "
        f"p99 {out['api_p99']:.1f} ms, non-202/socket errors {bad}"
    )
    print(
        f"  {name}: server CPU {100 * cpu / wall:.0f}% of one core; "
        f"peak RSS {out['rss_peak']:.0f} MB (server and its workers, sampled every 100 ms)"
    )
    return out


def storm_report(tmp: Path, storm: Storm) -> None:
    emails = json.loads((tmp / "emails.json").read_text()) if (tmp / "emails.json").exists() else {}
    secs = emails.get("seconds", [])
    statuses = ", ".join(f"{k} x{v}" for k, v in emails.get("statuses", {}).items()) or "none"
    print(
        f"  storm: {len(secs)} emails of {storm.email_bytes / 2**20:.1f} MiB posted to the "
        f"email webhook ({statuses}); seconds each: p50 {percentile(secs, 50):.1f}, "
        f"max {max(secs, default=NAN):.1f}"
    )
    logins = json.loads((tmp / "logins.json").read_text()) if (tmp / "logins.json").exists() else {}
    statuses = ", ".join(f"{k} x{v}" for k, v in logins.get("statuses", {}).items()) or "none"
    print(
        f"  storm: {sum(logins.get('statuses', {}).values())} wrong-password logins from "
        f"{storm.login_clients} client addresses ({statuses})"
    )


def mark(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_common_args(ap)
    ap.set_defaults(duration=20.0)
    ap.add_argument("--api-connections", type=int, default=8, help="wrk connections (default 8)")
    ap.add_argument("--login-clients", type=int, default=40, help="login flood clients (40)")
    ap.add_argument("--email-senders", type=int, default=2, help="parallel email posts (2)")
    ap.add_argument(
        "--email-bytes", type=int, default=Settings().email_max_bytes, help="size of each email"
    )
    ap.add_argument("--ramp", type=float, default=2.0, help="storm seconds before measuring (2)")
    args = ap.parse_args()
    print_machine(
        f"wrk -t1 -c{args.api_connections}; a /healthz probe; {args.email_senders} email "
        f"senders; {args.login_clients} login clients: four processes beside the server"
    )

    def phases(server: Server, prepared: tuple[str, int]) -> bool:
        token, email_inbox = prepared
        assert server.proc is not None
        rss = RssWatch(server.proc.pid)
        storm = Storm(
            url=server.url,
            email_inbox=email_inbox,
            webhook_secret=WEBHOOK_SECRET,
            email_bytes=args.email_bytes,
            login_email=LOGIN_EMAIL,
            login_clients=args.login_clients,
            email_senders=args.email_senders,
        )
        print(f"\n== idle ({args.duration:g} s)")
        idle = phase("idle", server, token, args, rss)
        print(f"\n== storm ({args.duration:g} s, after a {args.ramp:g} s ramp)")
        stop = mp.Event()
        gens = [
            start(stream_emails, (storm, stop, server.tmp / "emails.json")),
            start(login_flood, (storm, stop, server.tmp / "logins.json")),
        ]
        time.sleep(args.ramp)
        rss.take_peak()
        try:
            hot = phase("storm", server, token, args, rss)
        finally:
            stop.set()
            for g in gens:
                g.join(timeout=180)
        storm_report(server.tmp, storm)
        hwm = rss.field("VmHWM")
        rss.stop()
        share = hot["api_rps"] / idle["api_rps"] if idle["api_rps"] else NAN
        peak = max(hwm, idle["rss_peak"], hot["rss_peak"])
        print("\n== targets")
        print(
            f"  /healthz p99 during the stream: {hot['healthz_p99']:.1f} ms "
            f"(idle {idle['healthz_p99']:.1f} ms); target <= {TARGET_HEALTHZ_P99_MS:g} ms: "
            f"{mark(hot['healthz_p99'] <= TARGET_HEALTHZ_P99_MS)}"
        )
        print(
            f"  API p99: idle {idle['api_p99']:.1f} ms, storm {hot['api_p99']:.1f} ms (no target)"
        )
        print(
            f"  peak RSS: {peak:.0f} MB (kernel high-water mark {hwm:.0f} MB); "
            f"target <= {TARGET_RSS_MB:g} MB: {mark(peak <= TARGET_RSS_MB)}"
        )
        print(
            f"  API ingest during the storm: {hot['api_rps']:.0f} of {idle['api_rps']:.0f} "
            f"msgs/s idle = {100 * share:.0f}%; target >= {100 * TARGET_API_SHARE:.0f}%: "
            f"{mark(share >= TARGET_API_SHARE)}"
        )
        return all(
            (
                hot["healthz_p99"] <= TARGET_HEALTHZ_P99_MS,
                peak <= TARGET_RSS_MB,
                share >= TARGET_API_SHARE,
            )
        )

    run_benchmark(args, prepare, phases, verdicts=("all targets met", "see MISSED above"))


if __name__ == "__main__":
    main()
