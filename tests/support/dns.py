"""DNS for sender-authentication tests: records from a dict, and a DKIM key to publish.

The SMTP edge asks DNS for SPF, DKIM and DMARC records; these let a test
publish them and sign mail the way the sender's own server would (with dkimpy),
so every check runs offline against the real verification code.
"""

from __future__ import annotations

import base64
import functools
import socket
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import dkim  # type: ignore[import-untyped]
import dns.message
import dns.rcode
import dns.rrset
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.mail import crlf
from threadline.channels.email.authn import DnsError

__all__ = ["FakeResolver", "dkim_key", "dkim_sign", "dns_server"]


class FakeResolver:
    """A zone as a dict: ``add(name, rtype, value)``; ``fail(name)`` makes it SERVFAIL."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.failing: set[str] = set()
        self.asked: list[tuple[str, str]] = []

    def add(self, name: str, rtype: str, value: str) -> FakeResolver:
        self.records[(name.lower().rstrip("."), rtype)].append(value)
        return self

    def fail(self, name: str) -> FakeResolver:
        self.failing.add(name.lower())
        return self

    def lookup(self, name: str, rtype: str) -> list[str]:
        name = name.lower().rstrip(".")
        self.asked.append((name, rtype))
        if name in self.failing:
            raise DnsError(f"SERVFAIL {name}")
        return list(self.records.get((name, rtype), []))

    def publish_dkim(self, domain: str, selector: str = "s1") -> None:
        self.add(f"{selector}._domainkey.{domain}", "TXT", dkim_key()[1])


@functools.cache
def dkim_key() -> tuple[bytes, str]:
    """One RSA key per test session: the private PEM and its DKIM TXT record."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def dkim_sign(raw: bytes, domain: str, selector: str = "s1") -> bytes:
    """``raw`` with a DKIM-Signature for ``domain`` prepended, as the sender's MTA adds it."""
    raw = crlf(raw)
    signature = dkim.sign(
        raw,
        selector.encode(),
        domain.encode(),
        dkim_key()[0],
        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
    )
    return bytes(signature) + raw


@contextmanager
def dns_server(zone: FakeResolver) -> Iterator[int]:
    """A real DNS server on UDP 127.0.0.1 answering from ``zone``; yields its port.

    For testing the resolver that talks to the system's DNS: the same questions,
    over the wire, without the internet. Unknown names get NXDOMAIN.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name = question.name.to_text(True).lower()
            rtype = dns.rdatatype.to_text(question.rdtype)
            zone.asked.append((name, rtype))
            reply = dns.message.make_response(query)
            values = zone.records.get((name, rtype), [])
            if not any(n == name for n, _ in zone.records):
                reply.set_rcode(dns.rcode.NXDOMAIN)
            elif values:
                texts = [_zone_text(rtype, v) for v in values]
                reply.answer.append(dns.rrset.from_text_list(name + ".", 300, "IN", rtype, texts))
            sock.sendto(reply.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        sock.close()


def _zone_text(rtype: str, value: str) -> str:
    if rtype != "TXT":
        return value if rtype != "MX" else value + "."
    # One TXT record may hold several strings of at most 255 bytes each.
    chunks = [value[i : i + 200] for i in range(0, len(value), 200)] or [""]
    return " ".join('"' + c.replace('"', '\\"') + '"' for c in chunks)
