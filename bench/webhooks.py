"""Signed-webhook ingest benchmark: Twilio SMS and WhatsApp on a real `threadline serve`.

    python bench/webhooks.py [--duration 15] [--connections 32] [--requests 60000]
                             [--keep] [--profile] [--skip-sms] [--skip-whatsapp]

Every request is a correctly signed provider payload with its own message id
from one of 5,000 cycling customers, so the server does the whole job each
time: check the signature, parse, store, thread, index, commit, answer 200.
Signatures differ per request and wrk's Lua has no HMAC-SHA1, so the requests
are signed here in Python beforehand, written one per line to a file, and
replayed by wrk (each wrk thread a disjoint slice, in order). The signature
checks alone are also timed in-process, to show what they cost per request.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import math
import shutil
import sys
import time
import timeit
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from _common import WORD, print_counts, print_machine, result_line, stored_counts, target_line
from _server import Server, add_common_args, cpu_seconds, load_line, run_benchmark
from _wrk import run_wrk, wrk_line

TARGET_RPS = 2500
TARGET_P99_MS = 60.0
TWILIO_NUMBER = "+14155550100"
ACCOUNT_SID = "AC" + "5e" * 16
AUTH_TOKEN = "9f" * 16
PHONE_NUMBER_ID = "106540352242922"  # the WhatsApp number's id, as in Meta's example
WABA_ID = "102290129340398"
APP_SECRET = "c0ffee" * 5 + "ab"
TEXTS = [
    "Hi, my order has not arrived yet, could you check the tracking?",
    "The invoice for last month shows the wrong VAT number.",
    "I cannot log in since the password reset, the link expired.",
    "Thanks, that fixed it! Can I still change the delivery address?",
    "Your app crashes when I open the settings page.",
    "I was charged twice for the same subscription, please refund.",
    "The parcel arrived damaged, the box was crushed.",
    "Still waiting for an answer on this, it has been three days.",
    "Está bien, gracias. ¿Cuándo llega el paquete? 📦",
]

# -- wrk ------------------------------------------------------------------------------
# One request per line: the signature header's value, a tab, the body (form or
# compact JSON, neither has a tab or newline). All are formatted in init(), so
# request() only hands the next one out; a thread that runs out stops and says so.
REPLAY_LUA = r"""
local threads = {}
local reqs = {}
local next_req = 1
exhausted = 0  -- globals, so done() can read them with thread:get

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file, path, header, content_type, nthreads = args[1], args[2], args[3], args[4],
    tonumber(args[5])
  local n = 0
  for line in io.lines(file) do
    if n % nthreads == id then
      local tab = line:find("\t", 1, true)
      local headers = {}
      headers["Content-Type"] = content_type
      headers[header] = line:sub(1, tab - 1)
      table.insert(reqs, wrk.format("POST", path, headers, line:sub(tab + 1)))
    end
    n = n + 1
  end
end

function request()
  local req = reqs[next_req]
  if req == nil then
    exhausted = 1
    wrk.thread:stop()
    return reqs[#reqs]  -- never sent: the thread's loop has stopped
  end
  next_req = next_req + 1
  return req
end

function done(summary, latency, requests)
  local out = 0
  for _, thread in ipairs(threads) do
    out = out + (thread:get("exhausted") or 0)
  end
  io.write(string.format("BENCH exhausted=%d\n", out))
end
"""


@dataclass(frozen=True)
class Provider:
    label: str
    path: str
    header: str
    content_type: str
    channel: str  # messages.channel
    source: str  # inbound_receipts.source
    sign: Callable[[str, int, int], tuple[str, bytes]]  # (prefix, n, customer) -> sig, body


def twilio_params(sid: str, customer: int, text: str) -> dict[str, str]:
    """What Twilio posts for an inbound SMS (its documented fields, one segment)."""
    return {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "SAN FRANCISCO",
        "FromZip": "94105",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": text,
        "FromCountry": "US",
        "To": TWILIO_NUMBER,
        "ToZip": "94105",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": f"+1628{2000000 + customer}",
        "ApiVersion": "2010-04-01",
    }


def twilio_signature(url: str, params: dict[str, str]) -> str:
    """As Twilio computes it: the URL, then each name and value, names sorted."""
    signed = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(
        hmac.new(AUTH_TOKEN.encode(), signed.encode(), "sha1").digest()
    ).decode()


def twilio_request(url: str) -> Callable[[str, int, int], tuple[str, bytes]]:
    def sign(prefix: str, n: int, customer: int) -> tuple[str, bytes]:
        sid = "SM" + hashlib.md5(f"{prefix}-{n}".encode()).hexdigest()
        params = twilio_params(sid, customer, f"{TEXTS[n % len(TEXTS)]} {WORD} #{n}")
        return twilio_signature(url, params), urlencode(params).encode()

    return sign


def whatsapp_envelope(wamid: str, customer: int, text: str, timestamp: int) -> dict[str, object]:
    """Meta's webhook envelope for one inbound WhatsApp text (see the test fixtures)."""
    wa_id = f"1650{5550000 + customer}"
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": f"Customer {customer}"}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": wamid,
                "timestamp": str(timestamp),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}],
    }


def whatsapp_sign(prefix: str, n: int, customer: int) -> tuple[str, bytes]:
    wamid = "wamid." + base64.b64encode(f"HBgL{prefix}{n:012d}".encode()).decode()
    text = f"{TEXTS[n % len(TEXTS)]} {WORD} #{n}"
    envelope = whatsapp_envelope(wamid, customer, text, int(time.time()))
    # Meta sends escaped-unicode JSON (ensure_ascii), and signs exactly those bytes.
    body = json.dumps(envelope, separators=(",", ":")).encode()
    return "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest(), body


def write_requests(
    path: Path, provider: Provider, prefix: str, count: int, customers: int
) -> float:
    """Sign ``count`` requests into ``path``; the seconds it took."""
    t0 = time.perf_counter()
    with path.open("wb") as f:
        for n in range(count):
            signature, body = provider.sign(prefix, n, n % customers)
            f.write(signature.encode() + b"\t" + body + b"\n")
    return time.perf_counter() - t0


def smoke(server: Server, provider: Provider) -> None:
    """One signed request by hand first, so a bad signature fails with the server's
    answer instead of as 15 s of 403s."""
    signature, body = provider.sign("smoke", 0, 0)
    req = urllib.request.Request(
        server.url + provider.path,
        data=body,
        headers={"Content-Type": provider.content_type, provider.header: signature},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
    except urllib.error.HTTPError as exc:
        raise RuntimeError(
            f"{provider.label}: a signed request got {exc.code}: {exc.read()[:300]!r}"
        ) from exc


# -- a phase ----------------------------------------------------------------------------
def phase(server: Server, provider: Provider, args: argparse.Namespace) -> bool:
    lua = server.tmp / "replay.lua"
    lua.write_text(REPLAY_LUA)
    slug = provider.channel
    print(
        f"\n== {provider.label}: wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s "
        f"(warm-up {args.warmup:g}s), {args.customers} customers, POST {provider.path}"
    )
    smoke(server, provider)
    wrk = {"threads": args.threads, "connections": args.connections}

    def replay(name: str, count: int, duration: float) -> tuple[dict[str, float], str]:
        path = server.tmp / f"{slug}-{name}.txt"
        took = write_requests(path, provider, name, count, args.customers)
        print(f"  signed {count} {name} requests in {took:.1f} s ({path.stat().st_size >> 20} MB)")
        script_args = (str(path), provider.path, provider.header, provider.content_type)
        return run_wrk(
            server.url + provider.path,
            lua,
            **wrk,
            duration=duration,
            script_args=(*script_args, str(args.threads)),
        )

    warm, _ = replay(
        "warm", math.ceil(args.requests * args.warmup / args.duration * 1.5), args.warmup
    )
    print(
        f"  warm-up: {warm.get('requests', 0):.0f} requests, {warm.get('rps', 0):.0f}/s, "
        f"non-2xx {warm.get('non2xx', 0):.0f}"
    )
    # Enough for the whole run even if it goes half again as fast as the warm-up.
    count = max(args.requests, math.ceil(1.5 * warm.get("rps", 0) * args.duration))
    assert server.proc is not None
    cpu0, wall0 = cpu_seconds(server.proc.pid), time.monotonic()
    res, text = replay("run", count, args.duration)
    cpu_note = load_line(server, cpu0, wall0)
    if args.verbose:
        print(text)
    time.sleep(1.0)  # let the last in-flight requests commit
    ran_out = bool(warm.get("exhausted", 0) or res.get("exhausted", 0))
    if ran_out:
        print("  the pre-signed requests ran out before wrk stopped: raise --requests")
    non2xx = int(res.get("non2xx", 0))
    errors = int(warm.get("non2xx", 0)) + non2xx + int(res.get("socket_errors", 0))
    counts = stored_counts(server.db, provider.channel, provider.source)
    acked = int(
        1  # the smoke request
        + warm.get("requests", 0)
        - warm.get("non2xx", 0)
        + res.get("requests", 0)
        - non2xx
    )
    print(wrk_line(res, args.duration, "non-2xx", non2xx))
    print(cpu_note)
    ok = print_counts(provider.channel, counts, acked, slack=2 * args.connections)
    rps, p50, p99 = res.get("rps", 0), res.get("p50", float("nan")), res.get("p99", float("nan"))
    note = f"of {acked} acknowledged incl. warm-up"
    print(result_line(provider.label, rps, p50, p99, f"non-2xx {non2xx}", counts["messages"], note))
    print(target_line(rps, TARGET_RPS, p99, TARGET_P99_MS))
    return ok and errors == 0 and not ran_out


# -- the signature checks alone ---------------------------------------------------------
def per_call_us(call: Callable[[], object]) -> float:
    """The best of five timings, in microseconds per call."""
    number = 20_000
    return min(timeit.repeat(call, number=number, repeat=5)) / number * 1e6


def signature_costs() -> None:
    from threadline.channels.meta.signature import signature_valid
    from threadline.channels.twilio.signature import is_valid_signature
    from threadline.channels.twilio.sms import form_params

    url = "http://127.0.0.1:8000/webhooks/twilio/sms"
    signature, body = twilio_request(url)("cost", 1, 1)
    pairs = form_params(body)  # what the webhook hands the check
    assert is_valid_signature(AUTH_TOKEN, url, pairs, signature)
    twilio_us = per_call_us(lambda: is_valid_signature(AUTH_TOKEN, url, pairs, signature))
    header, raw = whatsapp_sign("cost", 1, 1)
    assert signature_valid(APP_SECRET, raw, header)
    meta_us = per_call_us(lambda: signature_valid(APP_SECRET, raw, header))
    budget_us = 1e6 / TARGET_RPS
    print(
        f"Signature checks in-process: Twilio is_valid_signature {twilio_us:.1f} us per verify "
        f"({len(pairs)} params, both URL variants), Meta signature_valid {meta_us:.1f} us per "
        f"verify ({len(raw)} byte body); {100 * twilio_us / budget_us:.1f}% and "
        f"{100 * meta_us / budget_us:.1f}% of one core at {TARGET_RPS} msgs/s"
    )


def prepare(server: Server) -> list[Provider]:
    server.cli("migrate")
    sms = ["--address", TWILIO_NUMBER, "--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN]
    server.cli("inbox", "add", "sms", "--name", "SMS", *sms)
    meta = ["--app-secret", APP_SECRET, "--access-token", "x", "--verify-token", "v"]
    server.cli(
        "inbox", "add", "whatsapp", "--name", "WhatsApp", "--address", PHONE_NUMBER_ID, *meta
    )
    # Twilio signs the URL it requested: ours, exactly as wrk will send it.
    twilio_url = f"{server.url}/webhooks/twilio/sms"
    twilio = Provider(
        label="Twilio SMS",
        path="/webhooks/twilio/sms",
        header="X-Twilio-Signature",
        content_type="application/x-www-form-urlencoded",
        channel="sms",
        source="twilio_sms",
        sign=twilio_request(twilio_url),
    )
    whatsapp = Provider(
        label="WhatsApp",
        path="/webhooks/meta",
        header="X-Hub-Signature-256",
        content_type="application/json",
        channel="whatsapp",
        source="meta",
        sign=whatsapp_sign,
    )
    return [twilio, whatsapp]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_common_args(ap)
    ap.add_argument("--requests", type=int, default=60_000, help="pre-signed requests per phase")
    ap.add_argument("--customers", type=int, default=5000, help="customers cycled over")
    ap.add_argument("--skip-sms", action="store_true")
    ap.add_argument("--skip-whatsapp", action="store_true")
    args = ap.parse_args()

    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    print_machine("wrk")
    signature_costs()
    skip = {"sms": args.skip_sms, "whatsapp": args.skip_whatsapp}

    def phases(server: Server, providers: list[Provider]) -> bool:
        ok = True
        for provider in providers:
            if not skip[provider.channel] and server.alive():
                ok &= phase(server, provider, args)
        return ok

    run_benchmark(args, prepare, phases)


if __name__ == "__main__":
    main()
