"""The soak's load generators: what a provider does on each edge. Each client sends
one message at a time and retries it, byte for byte, until the server acknowledges
it (202/200 over HTTP, 250 over SMTP), as Twilio, a mail server or an API caller
would; only then is its key recorded and the next message made. Each edge runs in
its own process, so the generators never share the server's GIL."""

from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import smtplib
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from multiprocessing.synchronize import Event
from pathlib import Path
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

__all__ = ["EDGES", "Edge", "Target", "start_clients"]

CUSTOMERS = 300  # shared by the three edges' senders, so writers contend per customer
EMAIL_TO = "support@acme.test"
TWILIO_NUMBER = "+14155550100"
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "soak-twilio-auth-token"
RETRY_PAUSE = 0.1  # while the server restarts, a refused connection comes back at once


@dataclass(frozen=True)
class Target:
    """Where the clients send, fixed across restarts (the server keeps its ports)."""

    http: str
    smtp_port: int
    token: str
    run: str  # 8 hex digits in every key of this run, so the count can find them


@dataclass(frozen=True)
class Edge:
    name: str
    threads: int


EDGES = (Edge("api", 3), Edge("smtp", 2), Edge("sms", 3))


def key(target: Target, edge: str, worker: int, n: int) -> str:
    """The provider id the server stores for message n, as the count will match it."""
    if edge == "sms":  # a Twilio SID: SM and 32 hex digits
        return f"SM{target.run}{worker:04x}{n:020x}"
    return f"soak{target.run}-{edge}-{worker}-{n}"


# -- one message, sent until acknowledged -----------------------------------------------
class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()

    def add(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1


Send = Callable[[str, int], bool]  # (key, n) -> acknowledged?


def api_sender(target: Target, stats: Stats) -> Send:
    client = httpx.Client(base_url=target.http, timeout=15)
    headers = {"Authorization": f"Bearer {target.token}"}

    def send(k: str, n: int) -> bool:
        body = {
            "id": k,
            "customer": {"external_id": f"soak-c{n % CUSTOMERS}"},
            "text": f"Where is my order? ({k})",
        }
        r = client.post("/api/v1/messages", json=body, headers=headers)
        stats.add(f"http {r.status_code}")
        return r.status_code in (200, 202)

    return send


def sms_sender(target: Target, stats: Stats) -> Send:
    client = httpx.Client(timeout=15)
    url = f"{target.http}/webhooks/twilio/sms"
    validator = RequestValidator(AUTH_TOKEN)

    def send(k: str, n: int) -> bool:
        params = {
            "MessageSid": k,
            "SmsSid": k,
            "SmsMessageSid": k,
            "AccountSid": ACCOUNT_SID,
            "From": f"+1628{2000000 + n % CUSTOMERS}",
            "To": TWILIO_NUMBER,
            "Body": f"Any update on my refund? ({k})",
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
        }
        signature = validator.compute_signature(url, params)
        r = client.post(
            url,
            content=urlencode(params).encode(),
            headers={
                "X-Twilio-Signature": signature,
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        stats.add(f"http {r.status_code}")
        return r.status_code == 200

    return send


def smtp_sender(target: Target, stats: Stats) -> Send:
    conn: list[smtplib.SMTP] = []
    date = formatdate(localtime=False)  # one Date for the run: a retry is the same bytes

    def send(k: str, n: int) -> bool:
        sender = f"customer{n % CUSTOMERS}@example.org"
        raw = (
            f"From: Customer {n % CUSTOMERS} <{sender}>\r\nTo: {EMAIL_TO}\r\n"
            f"Subject: Order question {n}\r\nDate: {date}\r\nMessage-ID: <{k}@soak.test>\r\n"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Hello, my parcel has not arrived. ({k})\r\n"
        ).encode()
        try:
            if not conn:
                conn.append(smtplib.SMTP("127.0.0.1", target.smtp_port, timeout=15))
            conn[0].sendmail(sender, [EMAIL_TO], raw)  # raises unless DATA got 250
        except (OSError, smtplib.SMTPException) as exc:
            stats.add(f"smtp {type(exc).__name__}")
            for c in conn:
                with contextlib.suppress(OSError):
                    c.close()
            conn.clear()
            return False
        stats.add("smtp 250")
        return True

    return send


SENDERS: dict[str, Callable[[Target, Stats], Send]] = {
    "api": api_sender,
    "sms": sms_sender,
    "smtp": smtp_sender,
}


# -- a client process -------------------------------------------------------------------
def _worker(
    target: Target,
    edge: str,
    worker: int,
    stats: Stats,
    acked: list[str],
    stop: Event,
    abort: Event,
) -> None:
    send = SENDERS[edge](target, stats)
    n = 0
    while not stop.is_set():
        n += 1
        k = key(target, edge, worker, n)
        # After `stop`, the message in hand is still retried until acknowledged: a
        # provider never gives up on one because we stopped looking.
        while not abort.is_set():
            try:
                if send(k, n):
                    acked.append(k)
                    break
            except httpx.HTTPError as exc:
                stats.add(f"http {type(exc).__name__}")
            time.sleep(RETRY_PAUSE)


def _client(target: Target, edge: Edge, out: Path, stop: Event, abort: Event) -> None:
    stats = Stats()
    acked: list[list[str]] = [[] for _ in range(edge.threads)]
    threads = [
        threading.Thread(target=_worker, args=(target, edge.name, w, stats, acked[w], stop, abort))
        for w in range(edge.threads)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    keys = [k for per in acked for k in per]
    out.write_text(json.dumps({"acked": keys, "outcomes": dict(stats.outcomes)}))


def start_clients(
    target: Target, tmp: Path, stop: Event, abort: Event
) -> list[tuple[Edge, mp.Process, Path]]:
    """One process per edge; each writes what was acknowledged to a file when it ends."""
    procs = []
    for edge in EDGES:
        out = tmp / f"acked-{edge.name}.json"
        p = mp.Process(target=_client, args=(target, edge, out, stop, abort), daemon=True)
        p.start()
        procs.append((edge, p, out))
    return procs
