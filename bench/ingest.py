"""End-to-end ingest benchmark: a real `threadline serve` on SQLite, loaded over HTTP and SMTP.

    python bench/ingest.py [--duration 15] [--connections 32] [--smtp-clients 8]
                           [--keep] [--profile]

API phase: wrk (Lua script) POSTs JSON messages to /api/v1/messages for 5,000
cycling customers. SMTP phase: N smtplib clients, one connection each, send
distinct RFC 5322 messages back to back (the server answers 250 after commit).
Afterwards the rows really stored are counted and printed next to what the
load generators saw acknowledged. The load generators share the machine's
cores with the server, so the numbers are a lower bound for a dedicated host.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import random
import re
import shutil
import signal
import smtplib
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter, defaultdict
from email.utils import formataddr, formatdate
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORD = "benchword"  # in every message text, to count FTS rows
TARGET_API_RPS = 3000
TARGET_API_P99_MS = 50.0
TARGET_SMTP_RPS = 400
CLI = "from threadline.cli.main import main; main()"  # the module has no __main__ guard

# -- wrk ------------------------------------------------------------------------------
WRK_LUA = r"""
-- args: run prefix, number of customers, bearer token
local threads = {}
local counter = 0
local tid = 0
local nthreads = 1
local prefix = "r"
local customers = 5000
bad = 0  -- a global, so done() can read it with thread:get
local texts = {
  "Hi, my order has not arrived yet, could you check the tracking? BENCHWORD",
  "The invoice for last month shows the wrong VAT number, please correct it. BENCHWORD",
  "I cannot log in since the password reset, the link says it expired. BENCHWORD",
  "Thanks, that fixed it! One more thing: can I change the delivery address? BENCHWORD",
  "Your app crashes when I open the settings page on Android 14. BENCHWORD",
  "I was charged twice for the same subscription, I would like a refund. BENCHWORD",
  "Can you upgrade our plan to the team tier and prorate the difference? BENCHWORD",
  "The parcel arrived damaged, the box was crushed and the lid is broken. BENCHWORD",
  "Is there an API endpoint to export all our contacts as CSV? BENCHWORD",
  "Still waiting for an answer on this, it has been three days now. BENCHWORD",
  "Please cancel my account and delete my personal data under GDPR. BENCHWORD",
  "The discount code SPRING24 is rejected at checkout, it says invalid. BENCHWORD",
}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1] or "r"
  customers = tonumber(args[2] or "5000")
  token = args[3] or ""
  tid = id
  nthreads = tonumber(args[4] or "1")
  headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. token
end

function request()
  counter = counter + 1
  local n = (counter * nthreads + tid) % customers
  local text = texts[(counter + tid) % #texts + 1]
  local body = '{"id":"' .. prefix .. "-" .. tid .. "-" .. counter ..
    '","customer":{"external_id":"c' .. n .. '"},"text":"' .. text .. " #" .. counter .. '"}'
  return wrk.format("POST", "/api/v1/messages", headers, body)
end

function response(status, headers, body)
  if status ~= 202 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local total_bad = 0
  for _, thread in ipairs(threads) do
    total_bad = total_bad + (thread:get("bad") or 0)
  end
  io.write(string.format(
    "BENCH requests=%d non202=%d p50_us=%d p99_us=%d " ..
    "connect=%d read=%d write=%d timeout=%d status=%d\n",
    summary.requests, total_bad, latency:percentile(50), latency:percentile(99),
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status))
end
""".replace("BENCHWORD", WORD)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ms(text: str) -> float:
    """wrk prints latencies as 812.00us, 3.21ms, 1.02s, 2.00m."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(out: str) -> dict[str, float]:
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
    if m := re.search(r"BENCH requests=(\d+) non202=(\d+)", out):
        res["non202"] = int(m.group(2))
    return res


def run_wrk(
    url: str,
    lua: Path,
    *,
    threads: int,
    connections: int,
    duration: float,
    prefix: str,
    customers: int,
    token: str,
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
        prefix,
        str(customers),
        token,
        str(threads),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=duration + 60)
    text = out.stdout + out.stderr
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{text}")
    return parse_wrk(text), text


# -- the server -------------------------------------------------------------------------
class Server:
    def __init__(self, tmp: Path, *, profile: bool) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.smtp_port = free_port()
        self.env = {
            **os.environ,
            "THREADLINE_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
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
        self._stderr = None
        self._stdout = None

    def cli(self, *args: str) -> str:
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

    def prepare(self) -> str:
        self.cli("migrate")
        self.cli("user", "add", "bench@acme.test", "--role", "admin", "--password", "x")
        token = self.cli("token", "add", "--user", "bench@acme.test").strip().splitlines()[-1]
        self.cli("inbox", "add", "api", "--address", "acme-app", "--name", "App")
        self.cli("inbox", "add", "email", "--address", "support@acme.test")
        return token

    def start(self) -> None:
        self._stderr = open(self.stderr_path, "wb")  # noqa: SIM115 - closed in stop()
        self._stdout = open(self.stdout_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                CLI,
                "serve",
                "--port",
                str(self.port),
                "--smtp-port",
                str(self.smtp_port),
            ],
            env=self.env,
            stdout=self._stdout,
            stderr=self._stderr,
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
            p = subprocess.Popen(
                [
                    pyspy,
                    "record",
                    "--pid",
                    str(self.proc.pid),
                    "--nonblocking",
                    "--rate",
                    "97",
                    "--format",
                    fmt,
                    "-o",
                    str(path),
                    *extra,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            self.profilers.append((p, path))
        time.sleep(1.0)
        for p, _ in self.profilers:
            if p.poll() is not None:
                err = p.stderr.read().decode() if p.stderr else ""
                print(f"profile: py-spy exited early: {err.strip()}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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
        for f in (self._stderr, self._stdout):
            if f is not None:
                f.close()
        return code

    def stderr_tail(self, lines: int = 30) -> str:
        try:
            text = self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), or NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def load_line(server: Server, cpu0: float, wall0: float) -> str:
    assert server.proc is not None
    cpu = cpu_seconds(server.proc.pid) - cpu0
    wall = time.monotonic() - wall0
    return (
        f"  server process CPU: {100 * cpu / wall:.0f}% of one core over the phase "
        "(one Python process; the GIL caps its Python work at one core)"
    )


# -- verification -----------------------------------------------------------------------
def stored_counts(db: Path, channel: str) -> dict[str, int]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        q = lambda sql, *a: int(con.execute(sql, a).fetchone()[0])  # noqa: E731
        return {
            "messages": q("SELECT count(*) FROM messages WHERE channel = ?", channel),
            "receipts": q("SELECT count(*) FROM inbound_receipts WHERE source = ?", channel),
            "processed": q(
                "SELECT count(*) FROM inbound_receipts WHERE source = ? AND status = 'processed'",
                channel,
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


# -- API phase --------------------------------------------------------------------------
def api_phase(server: Server, token: str, args: argparse.Namespace) -> bool:
    lua = server.tmp / "post_message.lua"
    lua.write_text(WRK_LUA)
    url = f"{server.url}/api/v1/messages"
    print(
        f"\n== API: wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s "
        f"(warm-up {args.warmup:g}s), {args.customers} customers"
    )
    warm, _ = run_wrk(
        url,
        lua,
        threads=args.threads,
        connections=args.connections,
        duration=args.warmup,
        prefix="warm",
        customers=args.customers,
        token=token,
    )
    print(
        f"  warm-up: {warm.get('requests', 0):.0f} requests, {warm.get('rps', 0):.0f}/s, "
        f"non-202 {warm.get('non202', 0):.0f}"
    )
    assert server.proc is not None
    cpu0, wall0 = cpu_seconds(server.proc.pid), time.monotonic()
    res, text = run_wrk(
        url,
        lua,
        threads=args.threads,
        connections=args.connections,
        duration=args.duration,
        prefix="run",
        customers=args.customers,
        token=token,
    )
    cpu_note = load_line(server, cpu0, wall0)
    if args.verbose:
        print(text)
    time.sleep(1.0)  # let the last in-flight requests commit
    errors = int(res.get("non202", res.get("non2xx", 0)) + res.get("socket_errors", 0))
    counts = stored_counts(server.tmp / "bench.db", "api")
    acked = int(
        warm.get("requests", 0)
        - warm.get("non202", 0)
        + res.get("requests", 0)
        - res.get("non202", 0)
    )
    print(
        f"  wrk: {res.get('requests', 0):.0f} requests in {args.duration:g}s, latency p50 "
        f"{res.get('p50', float('nan')):.2f} ms, p75 {res.get('p75', float('nan')):.2f} ms, "
        f"p90 {res.get('p90', float('nan')):.2f} ms, p99 {res.get('p99', float('nan')):.2f} ms; "
        f"non-202 {res.get('non202', 0):.0f}, socket errors {res.get('socket_errors', 0):.0f}"
    )
    print(cpu_note)
    ok = print_counts("api", counts, acked, slack=2 * args.connections)
    print(
        f"API: {res.get('rps', 0):.0f} msgs/s, p50 {res.get('p50', float('nan')):.2f} ms, "
        f"p99 {res.get('p99', float('nan')):.2f} ms, errors {errors}, stored {counts['messages']} "
        f"(of {acked} acknowledged incl. warm-up)"
    )
    met = res.get("rps", 0) >= TARGET_API_RPS and res.get("p99", 1e9) <= TARGET_API_P99_MS
    print(
        f"  target: >= {TARGET_API_RPS} msg/s with p99 <= {TARGET_API_P99_MS:g} ms: "
        f"{'MET' if met else 'MISSED'}"
    )
    return ok and errors == 0


# -- SMTP phase -------------------------------------------------------------------------
SUBJECTS = [
    "Order not delivered",
    "Refund request",
    "Wrong item received",
    "Invoice question",
    "Cannot log in",
    "Password reset not working",
    "Change delivery address",
    "Cancel my order",
    "Damaged parcel",
    "Subscription renewal",
    "Billing error on my card",
    "Discount code invalid",
    "Return label",
    "Warranty claim",
    "Product question",
    "Account locked",
    "Two-factor codes",
    "Export my data",
    "Delete my account",
    "Missing item in package",
    "Late shipment",
    "Size exchange",
    "Payment failed",
    "Upgrade my plan",
    "Feature request",
    "App crashes",
    "Tracking number",
    "VAT invoice",
    "Gift card balance",
    "Pre-order status",
    "Bulk order quote",
    "Store pickup",
    "Unsubscribe",
    "Complaint about courier",
    "Replacement part",
]
FIRST = [
    "Anna",
    "Ben",
    "Chloé",
    "Dmitri",
    "Elif",
    "Farah",
    "Gustavo",
    "Hana",
    "Ivan",
    "Jules",
    "Kofi",
    "Lena",
    "Mateo",
    "Nora",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Yuki",
]
LAST = ["Schmidt", "Dubois", "García", "Rossi", "Nowak", "Kim", "Okafor", "Jensen", "Silva", "Ito"]
BODIES = [
    "Hello,\n\nI ordered a {p} last week (order #{o}) and it still has not arrived.\n"
    "The tracking page has not changed for four days. Could you look into it?\n",
    "Hi team,\n\nmy card was charged twice for order #{o}. Please refund the duplicate "
    "payment.\nI attached nothing, the statement shows both charges on the same day.\n",
    "Hi,\n\nthe {p} I received is not the one I ordered. Can you send a return label "
    "and the right item?\n\nThanks a lot\n",
    "Good morning,\n\nI cannot log in to my account any more. The password reset mail "
    "never arrives, I checked the spam folder too.\n",
    "Hello again,\n\nany news on this? I am still waiting for an answer about the {p}.\n",
    "Hi there,\n\nis the {p} compatible with the older model? I would like to order two "
    "if so. Also, do you ship to Norway?\n",
]


def _email(
    n: int, sender: int, last_ids: dict[int, str], rng: random.Random
) -> tuple[str, bytes, str]:
    name = f"{FIRST[sender % len(FIRST)]} {LAST[(sender // len(FIRST)) % len(LAST)]}"
    addr = f"c{sender}@example.com"
    subject = SUBJECTS[(n // 7 + sender) % len(SUBJECTS)]
    msg_id = f"<{uuid.uuid4().hex}.{n}@example.com>"
    body = BODIES[n % len(BODIES)].format(
        p=rng.choice(["kettle", "router", "sofa", "jacket", "headset", "blender", "tent", "drill"]),
        o=100000 + n,
    )
    body += (
        f"(ref {WORD})\n\nBest regards,\n{FIRST[sender % len(FIRST)]}\n-- \nSent from my phone\n"
    )
    headers = [
        # RFC 2047-encoded display name, as mail clients send it
        f"From: {formataddr((name, addr), charset='utf-8')}",
        "To: Acme Support <support@acme.test>",
        f"Date: {formatdate(localtime=False)}",
        f"Message-ID: {msg_id}",
        "MIME-Version: 1.0",
    ]
    prev = last_ids.get(sender)
    if prev is not None and n % 3 == 0:  # a reply: threads by In-Reply-To/References
        subject = "Re: " + subject
        headers += [f"In-Reply-To: {prev}", f"References: {prev}"]
        body += "\nOn Monday, Acme Support wrote:\n> Thanks for reaching out, we are on it.\n"
    headers.append(f"Subject: {subject}")
    if n % 4 == 0:  # a quarter multipart/alternative with HTML, as mail clients send
        boundary = f"b{uuid.uuid4().hex}"
        html = (
            "<html><body>"
            + "".join(f"<p>{line}</p>" for line in body.splitlines() if line.strip())
            + "</body></html>"
        )
        headers.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
        text = (
            f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
            f"--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: 8bit\r\n\r\n{html}\r\n--{boundary}--\r\n"
        )
    else:
        headers += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
        text = body
    raw = "\r\n".join(headers) + "\r\n\r\n" + text.replace("\r\n", "\n").replace("\n", "\r\n")
    last_ids[sender] = msg_id
    return addr, raw.encode("utf-8"), msg_id


def smtp_phase(server: Server, args: argparse.Namespace) -> bool:
    print(
        f"\n== SMTP: {args.smtp_clients} clients x 1 connection, {args.duration:g}s, "
        f"{args.smtp_senders} senders, {len(SUBJECTS)} subjects"
    )
    counter = itertools.count()
    last_ids: dict[int, str] = {}
    latencies: list[list[float]] = [[] for _ in range(args.smtp_clients)]
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + args.duration

    def client(i: int) -> None:
        rng = random.Random(i)
        smtp: smtplib.SMTP | None = None
        while time.monotonic() < stop_at:
            try:
                if smtp is None:
                    smtp = smtplib.SMTP("127.0.0.1", server.smtp_port, timeout=30)
                    smtp.ehlo("loadgen.example.com")
                n = next(counter)
                # random senders: some write again (and thread by In-Reply-To or subject)
                sender = rng.randrange(args.smtp_senders)
                with lock:
                    addr, raw, _ = _email(n, sender, last_ids, rng)
                t0 = time.perf_counter()
                smtp.sendmail(addr, ["support@acme.test"], raw)
                latencies[i].append(time.perf_counter() - t0)
            except (smtplib.SMTPException, OSError) as exc:
                with lock:
                    errors[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
                if smtp is not None:
                    with contextlib.suppress(Exception):
                        smtp.close()
                smtp = None
        if smtp is not None:
            with contextlib.suppress(Exception):
                smtp.quit()

    assert server.proc is not None
    cpu0 = cpu_seconds(server.proc.pid)
    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.smtp_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    cpu_note = load_line(server, cpu0, t0)
    lat = sorted(x * 1000 for per in latencies for x in per)
    sent = len(lat)
    p50 = statistics.quantiles(lat, n=100)[49] if sent > 1 else float("nan")
    p99 = statistics.quantiles(lat, n=100)[98] if sent > 1 else float("nan")
    nerr = sum(errors.values())
    time.sleep(0.5)
    counts = stored_counts(server.tmp / "bench.db", "email")
    for what, k in errors.most_common(5):
        print(f"  error x{k}: {what}")
    print(cpu_note)
    ok = print_counts("email", counts, sent, slack=0)
    rate = sent / elapsed if elapsed else 0.0
    print(
        f"SMTP: {rate:.0f} msgs/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms, errors {nerr}, "
        f"stored {counts['messages']} (of {sent} acknowledged with 250)"
    )
    print(f"  target: >= {TARGET_SMTP_RPS} msg/s: {'MET' if rate >= TARGET_SMTP_RPS else 'MISSED'}")
    return ok and nerr == 0


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


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--duration", type=float, default=15.0, help="seconds per phase (default 15)")
    ap.add_argument("--warmup", type=float, default=3.0, help="API warm-up seconds (default 3)")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    ap.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    ap.add_argument("--customers", type=int, default=5000, help="API customers cycled over")
    ap.add_argument("--smtp-clients", type=int, default=8, help="SMTP connections (default 8)")
    ap.add_argument("--smtp-senders", type=int, default=2000, help="distinct From addresses")
    ap.add_argument("--skip-api", action="store_true")
    ap.add_argument("--skip-smtp", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (DB, logs, profile)")
    ap.add_argument("--profile", action="store_true", help="record the server with py-spy")
    ap.add_argument("--verbose", action="store_true", help="print wrk's full output")
    args = ap.parse_args()

    if shutil.which("wrk") is None and not args.skip_api:
        sys.exit("wrk is not installed (apt-get install wrk)")
    cpus = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    print(
        f"CPUs: {cpus} ({usable} usable); the load generators (wrk, smtplib) share these "
        "cores with the server, so results are a lower bound."
    )
    print(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")

    tmp = Path(tempfile.mkdtemp(prefix="threadline-bench-"))
    server = Server(tmp, profile=args.profile)
    ok = True
    try:
        token = server.prepare()
        server.start()
        print(
            f"server pid {server.proc.pid if server.proc else '?'} on {server.url}, "
            f"SMTP {server.smtp_port}, DB {tmp / 'bench.db'}"
        )
        if not args.skip_api:
            ok &= api_phase(server, token, args)
        if not args.skip_smtp and server.alive():
            ok &= smtp_phase(server, args)
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
        for path in (server.stderr_path, server.stdout_path):
            text = path.read_text(errors="replace") if path.exists() else ""
            lines = text.splitlines()
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
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(
        "\nRESULT:", "all acknowledged messages stored, no errors" if ok else "see problems above"
    )


if __name__ == "__main__":
    main()
