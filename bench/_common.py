"""What the end-to-end benchmarks share: a real `threadline serve` on a temp SQLite
database, wrk runs and their parsed figures, stored-row checks, py-spy, and the
printed lines. The benchmark scripts import it as a sibling module
(``from _common import ...``), since Python puts the script's folder on sys.path.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TypeVar

__all__ = [
    "CLI",
    "ROOT",
    "WORD",
    "Server",
    "add_common_args",
    "cpu_seconds",
    "free_port",
    "load_line",
    "parse_wrk",
    "percentile",
    "print_counts",
    "print_machine",
    "result_line",
    "run_benchmark",
    "run_wrk",
    "stored_counts",
    "summarize_profile",
    "target_line",
    "wrk_line",
]

ROOT = Path(__file__).resolve().parent.parent
WORD = "benchword"  # in every message text, to count FTS rows
CLI = "from threadline.cli.main import main; main()"  # the module has no __main__ guard
NAN = float("nan")

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: Sequence[float], pct: int) -> float:
    """The pct-th percentile (1..99) of at least two values, else NaN."""
    return statistics.quantiles(values, n=100)[pct - 1] if len(values) > 1 else NAN


# -- wrk ------------------------------------------------------------------------------
def _ms(text: str) -> float:
    """wrk prints latencies as 812.00us, 3.21ms, 1.02s, 2.00m."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        return NAN
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(out: str) -> dict[str, float]:
    """wrk's own figures, plus the key=value pairs a Lua done() prints after 'BENCH'."""
    res: dict[str, float] = {}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        res["rps"] = float(m.group(1))
    if m := re.search(r"(\d+) requests in ([\d.]+)(\w+),", out):
        res["requests"] = int(m.group(1))
    for pct in ("50", "75", "90", "99"):
        if m := re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M):
            res[f"p{pct}"] = _ms(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        res["non2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        res["socket_errors"] = sum(int(g) for g in m.groups())
    if m := re.search(r"^BENCH (.*)$", out, re.M):
        for key, value in re.findall(r"(\w+)=(\d+)", m.group(1)):
            res.setdefault(key, int(value))  # wrk's own count wins over the script's
    return res


def run_wrk(
    url: str,
    lua: Path,
    *,
    threads: int,
    connections: int,
    duration: float,
    script_args: Sequence[str] = (),
) -> tuple[dict[str, float], str]:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(lua),
        url,
        "--",
        *script_args,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=duration + 60)
    text = out.stdout + out.stderr
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{text}")
    return parse_wrk(text), text


def wrk_line(res: dict[str, float], duration: float, bad_label: str, bad: float) -> str:
    return (
        f"  wrk: {res.get('requests', 0):.0f} requests in {duration:g}s, latency p50 "
        f"{res.get('p50', NAN):.2f} ms, p75 {res.get('p75', NAN):.2f} ms, "
        f"p90 {res.get('p90', NAN):.2f} ms, p99 {res.get('p99', NAN):.2f} ms; "
        f"{bad_label} {bad:.0f}, socket errors {res.get('socket_errors', 0):.0f}"
    )


# -- printed lines ----------------------------------------------------------------------
def result_line(
    label: str, rate: float, p50: float, p99: float, errors: str, stored: int, note: str
) -> str:
    """The one line per phase a reader looks for: 'API: N msgs/s, p50, p99, errors, stored'."""
    return (
        f"{label}: {rate:.0f} msgs/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms, {errors}, "
        f"stored {stored} ({note})"
    )


def target_line(rate: float, min_rate: int, p99: float = NAN, max_p99: float | None = None) -> str:
    met = rate >= min_rate and (max_p99 is None or p99 <= max_p99)
    latency = f" with p99 <= {max_p99:g} ms" if max_p99 is not None else ""
    return f"  target: >= {min_rate} msg/s{latency}: {'MET' if met else 'MISSED'}"


def print_machine(generators: str) -> None:
    cpus = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    print(
        f"CPUs: {cpus} ({usable} usable); the load generators ({generators}) share these "
        "cores with the server, so results are a lower bound."
    )
    print(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")


# -- the server -------------------------------------------------------------------------
class Server:
    """`threadline serve` as a subprocess on free ports, with its DB in ``tmp``."""

    def __init__(self, tmp: Path, *, profile: bool) -> None:
        self.tmp = tmp
        self.db = tmp / "bench.db"
        self.port = free_port()
        self.smtp_port = free_port()
        self.env = {
            **os.environ,
            "THREADLINE_DATABASE_URL": f"sqlite:///{self.db}",
            "THREADLINE_DATA_DIR": str(tmp),
            "THREADLINE_SECRET_KEY": "bench",
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p
            ),
        }
        self.profile = profile
        self.proc: subprocess.Popen[bytes] | None = None
        self.profilers: list[tuple[subprocess.Popen[bytes], Path]] = []
        self.stderr_path = tmp / "server.stderr"
        self.stdout_path = tmp / "server.stdout"  # structlog's console renderer prints here
        self._logs: list[IO[bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        """A `threadline` CLI command on the benchmark's database; its stdout."""
        out = subprocess.run(
            [sys.executable, "-c", CLI, *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if out.returncode != 0:
            raise RuntimeError(f"threadline {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
        return out.stdout

    def start(self) -> None:
        stdout, stderr = open(self.stdout_path, "wb"), open(self.stderr_path, "wb")  # noqa: SIM115
        self._logs = [stdout, stderr]  # closed in stop()
        ports = ["--port", str(self.port), "--smtp-port", str(self.smtp_port)]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CLI, "serve", *ports],
            env=self.env,
            stdout=stdout,
            stderr=stderr,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not answer /healthz within 30 s")
        if self.profile:
            self._start_profilers()

    def _start_profilers(self) -> None:
        pyspy = shutil.which("py-spy") or shutil.which(
            "py-spy", path=str(Path(sys.executable).parent)
        )
        if pyspy is None:
            print("profile: py-spy is not installed (pip install py-spy); running without it")
            return
        assert self.proc is not None
        # Two non-blocking samplers: a flame graph to look at, raw stacks to summarise.
        for fmt, name, extra in (
            ("flamegraph", "profile.svg", []),
            ("raw", "profile.txt", ["--threads"]),
        ):
            path = self.tmp / name
            cmd = [pyspy, "record", "--pid", str(self.proc.pid), "--nonblocking"]
            cmd += ["--rate", "97", "--format", fmt, "-o", str(path), *extra]
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            self.profilers.append((p, path))
        time.sleep(1.0)
        for p, _ in self.profilers:
            if p.poll() is not None:
                err = p.stderr.read().decode() if p.stderr else ""
                print(f"profile: py-spy exited early: {err.strip()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop_profilers(self) -> list[Path]:
        done = []
        for p, path in self.profilers:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
            if path.exists():
                done.append(path)
        self.profilers.clear()
        return done

    def stop(self) -> int | None:
        self.stop_profilers()
        code = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            code = self.proc.returncode
        for f in self._logs:
            f.close()
        self._logs = []
        return code

    def stderr_tail(self, lines: int = 30) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def report_logs(self) -> None:
        """How much the server wrote, and its most frequent error or warning lines."""
        for path in (self.stderr_path, self.stdout_path):
            lines = path.read_text(errors="replace").splitlines() if path.exists() else []
            noisy = Counter(
                re.sub(r"^\S+ \S+\s+|\d+", "", ln)[:160]
                for ln in lines
                if re.search(r"error|exception|traceback|warn|failed", ln, re.I)
            )
            print(
                f"\nserver {path.suffix[1:]}: {len(lines)} lines, {sum(noisy.values())} "
                f"mentioning errors/warnings ({path})"
            )
            for ln, k in noisy.most_common(8):
                print(f"  x{k}: {ln}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), or NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return NAN


def load_line(server: Server, cpu0: float, wall0: float) -> str:
    assert server.proc is not None
    cpu = cpu_seconds(server.proc.pid) - cpu0
    wall = time.monotonic() - wall0
    return (
        f"  server process CPU: {100 * cpu / wall:.0f}% of one core over the phase "
        "(one Python process; the GIL caps its Python work at one core)"
    )


# -- verification -----------------------------------------------------------------------
def stored_counts(db: Path, channel: str, source: str | None = None) -> dict[str, int]:
    """Rows stored for one channel; ``source`` is the receipts' name for it, if different."""
    source = source or channel
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        q = lambda sql, *a: int(con.execute(sql, a).fetchone()[0])  # noqa: E731
        return {
            "messages": q("SELECT count(*) FROM messages WHERE channel = ?", channel),
            "receipts": q("SELECT count(*) FROM inbound_receipts WHERE source = ?", source),
            "processed": q(
                "SELECT count(*) FROM inbound_receipts WHERE source = ? AND status = 'processed'",
                source,
            ),
            "timeline": q(
                "SELECT count(*) FROM timeline_entries t JOIN messages m ON m.id = t.message_id "
                "WHERE t.kind = 'message' AND m.channel = ?",
                channel,
            ),
            "fts": q(
                "SELECT count(*) FROM message_fts f JOIN messages m ON m.id = f.rowid "
                f"WHERE message_fts MATCH '\"{WORD}\"' AND m.channel = ?",
                channel,
            ),
            "customers": q("SELECT count(*) FROM customers"),
            "conversations": q("SELECT count(*) FROM conversations"),
        }
    finally:
        con.close()


def print_counts(label: str, counts: dict[str, int], acked: int, slack: int) -> bool:
    """Stored rows next to what the load generator saw acknowledged; True if they agree."""
    print(
        f"  stored ({label}): messages {counts['messages']}, receipts {counts['receipts']} "
        f"(processed {counts['processed']}), timeline {counts['timeline']}, "
        f"fts {counts['fts']}  | customers {counts['customers']}, "
        f"conversations {counts['conversations']}"
    )
    same = len({counts["messages"], counts["processed"], counts["timeline"], counts["fts"]}) == 1
    diff = counts["messages"] - acked
    ok = same and 0 <= diff <= slack
    print(
        f"  acknowledged {acked}, stored {counts['messages']} (+{diff}; up to {slack} may be "
        f"requests in flight when the generator stopped): {'OK' if ok else 'MISMATCH'}"
    )
    return ok


# -- the profile ---------------------------------------------------------------------
def summarize_profile(raw: Path, top: int = 15) -> None:
    """py-spy's raw format: 'thread;frame;frame;… count' per line, root first."""
    self_t: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    per_thread: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        count = int(n)
        frames = stack.split(";")
        thread, frames = frames[0], frames[1:]
        total += count
        per_thread[re.sub(r"^thread \(\d+\):\s*", "", thread)] += count
        if frames:
            self_t[frames[-1]] += count
        for f in set(frames):
            incl[f] += count
    if not total:
        print("profile: no samples")
        return
    print(f"\n== profile ({total} samples of busy threads; {raw.parent / 'profile.svg'})")
    for thread, n in per_thread.most_common(6):
        print(f"  thread {thread[:70]}: {100 * n / total:.1f}%")
    print("  top self time:")
    for f, n in self_t.most_common(top):
        print(f"    {100 * n / total:5.1f}%  {f[:110]}")
    print("  top inclusive (threadline code):")
    shown = 0
    for f, n in incl.most_common():
        if "threadline" in f:
            print(f"    {100 * n / total:5.1f}%  {f[:110]}")
            shown += 1
            if shown >= top:
                break
    grouped: defaultdict[str, int] = defaultdict(int)
    for f, n in self_t.items():
        m = re.search(r"\((?:.*/site-packages/|.*/lib/python3\.\d+/|.*/src/)?([^/]+)", f)
        grouped[m.group(1) if m else f] += n
    print("  self time by package:")
    for pkg, n in sorted(grouped.items(), key=lambda kv: -kv[1])[:12]:
        print(f"    {100 * n / total:5.1f}%  {pkg}")


# -- a whole run --------------------------------------------------------------------------
def add_common_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--duration", type=float, default=15.0, help="seconds per phase (default 15)")
    ap.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds (default 3)")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (DB, logs, profile)")
    ap.add_argument("--profile", action="store_true", help="record the server with py-spy")
    ap.add_argument("--verbose", action="store_true", help="print wrk's full output")


def run_benchmark(
    args: argparse.Namespace,
    setup: Callable[[Server], T],
    phases: Callable[[Server, T], bool],
) -> None:
    """Set up a temp database with CLI commands, serve it, run the phases, then report
    the profile, the server's logs and one RESULT line, and clean up."""
    tmp = Path(tempfile.mkdtemp(prefix="threadline-bench-"))
    server = Server(tmp, profile=args.profile)
    ok = True
    try:
        prepared = setup(server)
        server.start()
        print(
            f"server pid {server.proc.pid if server.proc else '?'} on {server.url}, "
            f"SMTP {server.smtp_port}, DB {server.db}"
        )
        ok = phases(server, prepared)
        profiles = server.stop_profilers() if args.profile else []
        raw = [p for p in profiles if p.suffix == ".txt"]
        if raw:
            summarize_profile(raw[0])
    except Exception as exc:
        ok = False
        print(f"FAILED: {type(exc).__name__}: {exc}")
    finally:
        died = not server.alive()
        code = server.stop()
        if died:
            print(f"\nserver died (exit {code}); stderr tail:\n{server.stderr_tail()}")
        server.report_logs()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(
        "\nRESULT:", "all acknowledged messages stored, no errors" if ok else "see problems above"
    )
