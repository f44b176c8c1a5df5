"""The hostile benchmark's load generators, each in its own process: a /healthz probe,
a stream of maximum-size emails through the signed email webhook and a login flood
of wrong passwords from many client addresses. Each writes what it saw to a JSON
file when told to stop; concurrency is bounded (one request in flight per sender)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import multiprocessing as mp
import os
import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.utils import formatdate
from multiprocessing.synchronize import Event
from pathlib import Path

import httpx

__all__ = ["Storm", "healthz_probe", "login_flood", "max_size_email", "start", "stream_emails"]

EMAIL_TO = "support@acme.test"
PLACEHOLDER = "hostile-000000000000"  # as long as each email's own id, so sizes stay exact
PROBE_HZ = 20  # /healthz probes per second, on a fixed schedule
QUOTED = (
    "> On Tue, a customer wrote:\r\n"
    "> > The parcel never arrived and the tracking page has said 'in transit' for a week.\r\n"
)
TEXT = "Hello, I am still waiting for the refund we discussed. Order 4417, invoice attached.\r\n"


@dataclass(frozen=True)
class Storm:
    url: str
    email_inbox: int
    webhook_secret: str
    email_bytes: int
    login_email: str  # a real account, so some attempts hit a stored hash
    login_clients: int
    email_senders: int


def max_size_email(size: int) -> bytes:
    """A multipart email of exactly ``size`` bytes with a PLACEHOLDER Message-ID: a long
    plain-text body full of quoted lines (what quote stripping walks) and a base64
    attachment filling the rest."""
    head = (
        f"From: Big Sender <big.sender@example.org>\r\nTo: {EMAIL_TO}\r\n"
        f"Subject: Scans of the damaged parcel\r\nDate: {formatdate()}\r\n"
        f"Message-ID: <{PLACEHOLDER}@hostile.test>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b0undary"\r\n\r\n'
        '--b0undary\r\nContent-Type: text/plain; charset="utf-8"\r\n\r\n'
    )
    att_head = (
        "\r\n--b0undary\r\nContent-Type: application/pdf; name=scan.pdf\r\n"
        "Content-Disposition: attachment; filename=scan.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    )
    tail = "\r\n--b0undary--\r\n"
    room = size - len(head) - size // 8 - len(att_head) - len(tail)
    # Valid base64, as a mail client writes it: 76-character lines, 78 bytes on the
    # wire for every 57 bytes of data. The text body takes up the slack, so the mail
    # is exactly ``size`` bytes.
    raw = random.Random(0).randbytes((room // 78) * 57)
    b64 = base64.encodebytes(raw).replace(b"\n", b"\r\n").rstrip(b"\r\n")
    body_len = size - len(head) - len(att_head) - len(b64) - len(tail)
    body = ((TEXT + QUOTED) * (body_len // len(TEXT + QUOTED) + 1))[:body_len]
    out = (head + body + att_head).encode() + b64 + tail.encode()
    assert len(out) == size, (len(out), size)
    return out


# -- the generators -----------------------------------------------------------------------
def healthz_probe(url: str, stop: Event, out: Path) -> None:
    """GET /healthz on a fixed schedule, open loop: each probe goes out when it is due,
    on its own connection from a small pool, whether or not the ones before it have
    been answered, and its latency is its own request's. (A sequential probe timed
    from when it was due measured its own backlog: once one answer took longer than
    the interval, every later probe inherited the wait.) A probe sent late, because
    the generators starve this process of CPU, is counted from when it was sent."""
    # Above the load generators that share the machine's cores with it (where we may:
    # root can), so that a late answer is the server's, not this process waiting for
    # a core behind wrk and the login clients.
    with contextlib.suppress(PermissionError):
        os.nice(-5)
    latencies: list[float] = []
    errors = Counter[str]()
    lock = threading.Lock()
    interval = 1 / PROBE_HZ
    local = threading.local()

    def probe() -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=url, timeout=60)
        start = time.monotonic()
        error = None
        try:
            r = client.get("/healthz")
            if r.status_code != 200:
                error = f"http {r.status_code}"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        took = (time.monotonic() - start) * 1000
        with lock:
            latencies.append(took)
            if error is not None:
                errors[error] += 1

    with ThreadPoolExecutor(max_workers=32) as pool:
        t0 = time.monotonic()
        i = 0
        while not stop.is_set():
            due = t0 + i * interval
            i += 1
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            pool.submit(probe)
    out.write_text(json.dumps({"latencies_ms": latencies, "errors": errors}))


def stream_emails(storm: Storm, stop: Event, out: Path) -> None:
    template = max_size_email(storm.email_bytes)
    lock = threading.Lock()
    done: list[float] = []
    statuses: Counter[str] = Counter()
    counter = iter(range(1_000_000))

    def sender() -> None:
        with httpx.Client(timeout=120) as client:
            while not stop.is_set():
                with lock:
                    n = next(counter)
                body = template.replace(PLACEHOLDER.encode(), f"hostile-{n:012d}".encode(), 1)
                sig = hmac.new(storm.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
                t = time.monotonic()
                try:
                    r = client.post(
                        f"{storm.url}/webhooks/email/{storm.email_inbox}",
                        content=body,
                        headers={
                            "Content-Type": "message/rfc822",
                            "X-Threadline-Signature": f"sha256={sig}",
                            "X-Envelope-To": EMAIL_TO,
                        },
                    )
                    outcome = f"http {r.status_code}"
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                with lock:
                    statuses[outcome] += 1
                    done.append(time.monotonic() - t)

    threads = [threading.Thread(target=sender) for _ in range(storm.email_senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.write_text(json.dumps({"seconds": done, "statuses": statuses}))


def login_flood(storm: Storm, stop: Event, out: Path) -> None:
    """Wrong passwords, half for a real account and half for unknown ones, each client
    from its own loopback address (127.0.0.2, .3, ...) as a throttle would see it."""
    lock = threading.Lock()
    statuses: Counter[str] = Counter()

    def client(k: int) -> None:
        transport = httpx.HTTPTransport(local_address=f"127.0.0.{k + 2}")
        with httpx.Client(base_url=storm.url, transport=transport, timeout=60) as c:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    form = c.get("/login")
                    m = re.search(r'name="_csrf_token" value="([^"]*)"', form.text)
                    data = {
                        "_csrf_token": m.group(1) if m else "",
                        "email": storm.login_email if n % 2 else f"nobody{k}.{n}@acme.test",
                        "password": f"guess-{k}-{n}",
                    }
                    r = c.post("/login", data=data)
                    outcome = f"http {r.status_code}"
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                with lock:
                    statuses[outcome] += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(storm.login_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.write_text(json.dumps({"statuses": statuses}))


def start(target: object, args: tuple[object, ...]) -> mp.Process:
    p = mp.Process(target=target, args=args, daemon=True)  # type: ignore[arg-type]
    p.start()
    return p
