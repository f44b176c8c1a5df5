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
import random
import shutil
import smtplib
import sys
import threading
import time
import uuid
from collections import Counter
from email.utils import formataddr, formatdate

from _common import (
    WORD,
    percentile,
    print_counts,
    print_machine,
    result_line,
    stored_counts,
    target_line,
)
from _server import Server, add_common_args, cpu_seconds, load_line, run_benchmark
from _wrk import run_wrk, wrk_line

TARGET_API_RPS = 3000
TARGET_API_P99_MS = 50.0
TARGET_SMTP_RPS = 400

# -- wrk ------------------------------------------------------------------------------
WRK_LUA = r"""
-- args: run prefix, number of customers, bearer token
local threads = {}
local counter = 0
local tid = 0
local nthreads = 1
local prefix = "r"
local customers = 5000
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

function done(summary, latency, requests)
  -- wrk counts responses outside 2xx/3xx itself: a Lua response() hook would
  -- cost the load generator enough CPU to halve what it can offer the server.
  local total_bad = summary.errors.status
  io.write(string.format(
    "BENCH requests=%d non202=%d p50_us=%d p99_us=%d " ..
    "connect=%d read=%d write=%d timeout=%d status=%d\n",
    summary.requests, total_bad, latency:percentile(50), latency:percentile(99),
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status))
end
""".replace("BENCHWORD", WORD)


def prepare(server: Server) -> str:
    server.cli("migrate")
    server.cli("user", "add", "bench@acme.test", "--role", "admin", "--password", "x")
    token = server.cli("token", "add", "--user", "bench@acme.test").strip().splitlines()[-1]
    server.cli("inbox", "add", "api", "--address", "acme-app", "--name", "App")
    server.cli("inbox", "add", "email", "--address", "support@acme.test")
    return token


# -- API phase --------------------------------------------------------------------------
def api_phase(server: Server, token: str, args: argparse.Namespace) -> bool:
    lua = server.tmp / "post_message.lua"
    lua.write_text(WRK_LUA)
    url = f"{server.url}/api/v1/messages"
    print(
        f"\n== API: wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s "
        f"(warm-up {args.warmup:g}s), {args.customers} customers"
    )
    wrk = {"threads": args.threads, "connections": args.connections}
    script_args = (str(args.customers), token, str(args.threads))
    warm, _ = run_wrk(url, lua, **wrk, duration=args.warmup, script_args=("warm", *script_args))
    print(
        f"  warm-up: {warm.get('requests', 0):.0f} requests, {warm.get('rps', 0):.0f}/s, "
        f"non-202 {warm.get('non202', 0):.0f}"
    )
    assert server.proc is not None
    cpu0, wall0 = cpu_seconds(server.proc.pid), time.monotonic()
    res, text = run_wrk(url, lua, **wrk, duration=args.duration, script_args=("run", *script_args))
    cpu_note = load_line(server, cpu0, wall0)
    if args.verbose:
        print(text)
    time.sleep(1.0)  # let the last in-flight requests commit
    errors = int(res.get("non202", res.get("non2xx", 0)) + res.get("socket_errors", 0))
    counts = stored_counts(server.db, "api")
    acked = int(
        warm.get("requests", 0)
        - warm.get("non202", 0)
        + res.get("requests", 0)
        - res.get("non202", 0)
    )
    print(wrk_line(res, args.duration, "non-202", res.get("non202", 0)))
    print(cpu_note)
    ok = print_counts("api", counts, acked, slack=2 * args.connections)
    rps, p50, p99 = res.get("rps", 0), res.get("p50", float("nan")), res.get("p99", float("nan"))
    stored, note = counts["messages"], f"of {acked} acknowledged incl. warm-up"
    print(result_line("API", rps, p50, p99, f"errors {errors}", stored, note))
    print(target_line(rps, TARGET_API_RPS, p99, TARGET_API_P99_MS))
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
    p50, p99 = percentile(lat, 50), percentile(lat, 99)
    nerr = sum(errors.values())
    time.sleep(0.5)
    counts = stored_counts(server.db, "email")
    for what, k in errors.most_common(5):
        print(f"  error x{k}: {what}")
    print(cpu_note)
    ok = print_counts("email", counts, sent, slack=0)
    rate = sent / elapsed if elapsed else 0.0
    note = f"of {sent} acknowledged with 250"
    print(result_line("SMTP", rate, p50, p99, f"errors {nerr}", counts["messages"], note))
    print(target_line(rate, TARGET_SMTP_RPS))
    return ok and nerr == 0


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common_args(ap)
    ap.add_argument("--customers", type=int, default=5000, help="API customers cycled over")
    ap.add_argument("--smtp-clients", type=int, default=8, help="SMTP connections (default 8)")
    ap.add_argument("--smtp-senders", type=int, default=2000, help="distinct From addresses")
    ap.add_argument("--skip-api", action="store_true")
    ap.add_argument("--skip-smtp", action="store_true")
    args = ap.parse_args()

    if shutil.which("wrk") is None and not args.skip_api:
        sys.exit("wrk is not installed (apt-get install wrk)")
    print_machine("wrk, smtplib")

    def phases(server: Server, token: str) -> bool:
        ok = True
        if not args.skip_api:
            ok &= api_phase(server, token, args)
        if not args.skip_smtp and server.alive():
            ok &= smtp_phase(server, args)
        return ok

    run_benchmark(args, prepare, phases)


if __name__ == "__main__":
    main()
