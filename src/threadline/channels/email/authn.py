"""Who really sent a mail: SPF, DKIM and DMARC, evaluated when we are the MX.

When our own SMTP server takes mail straight from the sender's MTA, no upstream
server stamps Authentication-Results, and the From header is whatever the
sender typed. So the SMTP edge evaluates the mail here (dkimpy verifies DKIM,
pyspf checks SPF, and DMARC alignment uses the Public Suffix List) and stores
the verdict in the payload's context, so a replay of the receipt reads the same
verdict instead of asking DNS again, days later, for records that changed.

Every DNS question goes through a ``Resolver``, so tests publish keys and
policies from a dict and run offline.

The rule the parser applies (DESIGN.md §6): a DMARC ``fail`` makes the sender
claimed, with a warning on the message, whatever policy the domain publishes.
``p=none`` only tells receivers not to refuse the mail, and gmail.com, the most
common customer domain, publishes exactly that: a forged gmail address must not
pass for its owner. A domain without a DMARC record cannot be judged (the
result is ``none``), and a DNS failure (``temperror``) leaves the sender as it is.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from email.headerregistry import AddressHeader
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from typing import Any, Protocol

import dkim  # type: ignore[import-untyped]
import dns.exception
import dns.resolver
import spf  # type: ignore[import-untyped]
import structlog
from publicsuffixlist import PublicSuffixList

from threadline.channels.email.headers import HEADER_ERRORS, INBOUND, header_all

__all__ = ["DnsError", "DnsResolver", "Resolver", "Verdict", "authenticate"]

log = structlog.get_logger(__name__)

MAX_SIGNATURES = 5  # each one costs a DNS query; a real mail carries one to three
MAX_AUTHORS = 5  # From domains, each one or two DMARC queries
_RESULTS = {"pass", "fail", "softfail", "neutral", "none", "temperror", "permerror", "policy"}
_RTYPES = ("TXT", "A", "AAAA", "MX", "PTR")


class DnsError(Exception):
    """A lookup that failed for now (timeout, SERVFAIL): a temperror, not a no."""


class Resolver(Protocol):
    def lookup(self, name: str, rtype: str) -> list[str]:
        """Answers for ``name``: TXT records (each one's strings joined), A/AAAA
        addresses, MX as "preference host", PTR host names; [] when there are
        none. Raises DnsError when the question could not be answered."""
        ...


class DnsResolver:
    """The system's DNS, through dnspython, with a short per-question budget.

    Answers are cached for their TTL: a busy sender's SPF and DMARC records are
    asked once, not for every mail. Pickles without its cache, for the worker
    process that checks large mail.
    """

    def __init__(
        self, timeout: float = 3.0, nameservers: list[str] | None = None, port: int = 53
    ) -> None:
        self.timeout = timeout
        self.nameservers = nameservers
        self.port = port
        self._resolver: dns.resolver.Resolver | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"timeout": self.timeout, "nameservers": self.nameservers, "port": self.port}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.timeout = state["timeout"]
        self.nameservers = state["nameservers"]
        self.port = state["port"]
        self._resolver = None

    def _client(self) -> dns.resolver.Resolver:
        if self._resolver is None:
            resolver = dns.resolver.Resolver(configure=self.nameservers is None)
            if self.nameservers is not None:
                resolver.nameservers = list(self.nameservers)
                resolver.port = self.port
            resolver.cache = dns.resolver.LRUCache(10_000)
            self._resolver = resolver
        return self._resolver

    def lookup(self, name: str, rtype: str) -> list[str]:
        if rtype not in _RTYPES:
            raise ValueError(f"unsupported record type {rtype}")
        try:
            answer = self._client().resolve(
                name, rtype, lifetime=self.timeout, raise_on_no_answer=False, search=False
            )
        except dns.resolver.NXDOMAIN:
            return []
        except (dns.exception.DNSException, OSError) as exc:
            raise DnsError(f"{rtype} {name}: {exc}") from exc
        found: list[str] = []
        for rdata in answer:
            if rtype == "TXT":
                found.append(b"".join(rdata.strings).decode("utf-8", "replace"))
            elif rtype == "MX":
                found.append(f"{rdata.preference} {rdata.exchange.to_text(True)}")
            elif rtype == "PTR":
                found.append(rdata.target.to_text(True))
            else:
                found.append(str(rdata.address))
        return found


@dataclass(frozen=True, slots=True)
class Verdict:
    spf: str  # the RFC 8601 result words
    dkim: str
    dmarc: str
    from_domain: str = ""
    policy: str = ""  # the DMARC policy that applies to from_domain ("" without a record)
    dkim_domains: tuple[str, ...] = ()  # d= of each signature that verified

    @property
    def forged(self) -> bool:
        return self.dmarc == "fail"

    def as_context(self) -> dict[str, Any]:
        data = asdict(self)
        data["dkim_domains"] = list(self.dkim_domains)
        return data

    @classmethod
    def from_context(cls, data: object) -> Verdict | None:
        """Read back a stored verdict; anything malformed counts as no verdict."""
        if not isinstance(data, Mapping):
            return None
        words = [data.get(k) for k in ("spf", "dkim", "dmarc")]
        if not all(isinstance(w, str) and w in _RESULTS for w in words):
            return None
        domains = data.get("dkim_domains", [])
        return cls(
            spf=str(words[0]),
            dkim=str(words[1]),
            dmarc=str(words[2]),
            from_domain=str(data.get("from_domain", ""))[:255],
            policy=str(data.get("policy", ""))[:32],
            dkim_domains=tuple(str(d)[:255] for d in domains if isinstance(d, str))
            if isinstance(domains, list)
            else (),
        )


def authenticate(
    raw: bytes, *, ip: str | None, mail_from: str, helo: str | None, resolver: Resolver
) -> Verdict:
    """The SPF, DKIM and DMARC results for a mail received from ``ip``.

    ``mail_from`` is the envelope sender, "" for the null sender (then SPF
    checks the HELO name, RFC 7208 §2.4). Never raises: a check that breaks on a
    hostile mail reports permerror, so the mail is still stored.
    """
    try:
        return _authenticate(raw, ip, mail_from, helo, resolver)
    except Exception:
        log.warning("authn.failed", exc_info=True)
        return Verdict("permerror", "permerror", "permerror")


def _authenticate(
    raw: bytes, ip: str | None, mail_from: str, helo: str | None, resolver: Resolver
) -> Verdict:
    spf_result, spf_domain = _spf(ip, mail_from, helo, resolver)
    dkim_result, dkim_domains = _dkim(raw, resolver)
    verdicts = [
        _dmarc(domain, spf_result, spf_domain, dkim_result, dkim_domains, resolver)
        for domain in _from_domains(raw)[:MAX_AUTHORS]
    ]
    # Several authors (RFC 7489 §6.6.1): a mail is only as trustworthy as its
    # weakest, or "From: ana@example.com, me@evil.test" would pass for Ana.
    for word in ("fail", "temperror", "permerror", "none", "pass"):
        for verdict in verdicts:
            if verdict.dmarc == word:
                return verdict
    return Verdict(spf_result, dkim_result, "none", "", "", dkim_domains)


def _dmarc(
    from_domain: str,
    spf_result: str,
    spf_domain: str,
    dkim_result: str,
    dkim_domains: tuple[str, ...],
    resolver: Resolver,
) -> Verdict:
    try:
        record, at = _dmarc_record(from_domain, resolver)
    except DnsError:
        return Verdict(spf_result, dkim_result, "temperror", from_domain, "", dkim_domains)
    if record is None:
        return Verdict(spf_result, dkim_result, "none", from_domain, "", dkim_domains)
    policy = record.get("p", "none")
    if at != from_domain and "sp" in record:
        policy = record["sp"]
    if policy not in {"none", "quarantine", "reject"}:
        policy = "none"  # RFC 7489 §6.6.3: an unknown p is read as none
    aligned = (
        spf_result == "pass" and _aligned(spf_domain, from_domain, record.get("aspf"))
    ) or any(_aligned(d, from_domain, record.get("adkim")) for d in dkim_domains)
    if aligned:
        result = "pass"
    elif "temperror" in (spf_result, dkim_result):
        result = "temperror"  # the pass we could not check might have aligned
    else:
        result = "fail"
    return Verdict(spf_result, dkim_result, result, from_domain, policy, dkim_domains)


# -- SPF --------------------------------------------------------------------------
class _SpfQuery(spf.query):  # type: ignore[misc]
    """pyspf asks DNS through its module-level lookup; this asks our resolver,
    keeping pyspf's own limits (10 mechanisms, 2 void lookups)."""

    def __init__(self, resolver: Resolver, ip: str, sender: str, helo: str) -> None:
        super().__init__(i=ip, s=sender, h=helo, querytime=20)
        self._resolver = resolver

    def dns(
        self, name: str, qtype: str, cnames: Any = None, ignore_void: bool = False
    ) -> list[Any]:
        name = str(name).rstrip(".").lower()
        if not name or qtype not in _RTYPES:
            return []
        try:
            answers = self._resolver.lookup(name, qtype)
        except DnsError as exc:
            raise spf.TempError(f"DNS {exc}") from exc
        if not answers and not ignore_void:
            self.void_lookups += 1
            if self.void_lookups > spf.MAX_VOID_LOOKUPS:
                raise spf.PermError(f"void lookup limit of {spf.MAX_VOID_LOOKUPS} exceeded")
        if qtype == "TXT":
            return [(a.encode(),) for a in answers]
        if qtype == "MX":
            pairs = [a.split(None, 1) for a in answers]
            return [(int(p[0]), p[1]) for p in pairs if len(p) == 2 and p[0].isdigit()]
        return answers


def _spf(ip: str | None, mail_from: str, helo: str | None, resolver: Resolver) -> tuple[str, str]:
    sender = mail_from.strip().strip("<>")
    domain = sender.rpartition("@")[2].lower() if sender else (helo or "").lower()
    if not ip or not domain:
        return "none", domain
    try:
        ipaddress.ip_address(ip)
        result, _code, _why = _SpfQuery(resolver, ip, sender, helo or domain).check()
    except ValueError:
        return "none", domain
    except Exception:
        log.warning("authn.spf_error", exc_info=True)
        return "permerror", domain
    word = str(result).lower()
    return (word if word in _RESULTS else "permerror"), domain


# -- DKIM -------------------------------------------------------------------------
def _dkim(raw: bytes, resolver: Resolver) -> tuple[str, tuple[str, ...]]:
    def txt(name: bytes, timeout: float = 5) -> bytes | None:
        try:
            found = resolver.lookup(name.decode("ascii").rstrip("."), "TXT")
        except UnicodeDecodeError:
            return None
        except DnsError as exc:
            raise dkim.DnsTimeoutError(str(exc)) from exc
        return found[0].encode() if found else None

    try:
        checker = dkim.DKIM(raw, minkey=1024)
        count = sum(1 for name, _ in checker.headers if name.lower() == b"dkim-signature")
    except Exception:
        return "permerror", ()
    if count == 0:
        return "none", ()
    passed: list[str] = []
    results: set[str] = set()
    for idx in range(min(count, MAX_SIGNATURES)):
        try:
            ok = checker.verify(idx=idx, dnsfunc=txt)
        except dkim.DnsTimeoutError:
            results.add("temperror")
            continue
        except Exception:  # dkimpy raises several types on hostile signatures
            results.add("fail")
            continue
        if ok:
            domain = checker.signature_fields.get(b"d", b"")
            passed.append(domain.decode("ascii", "replace").lower().rstrip("."))
        results.add("pass" if ok else "fail")
    best = next(r for r in ("pass", "temperror", "fail") if r in results)
    return best, tuple(dict.fromkeys(passed))


# -- DMARC ------------------------------------------------------------------------
def _from_domains(raw: bytes) -> list[str]:
    end = raw.find(b"\n\r\n")
    if end < 0:
        end = raw.find(b"\n\n")
    # Only the header block: feeding a 36 MB body to the parser costs ~0.3 s.
    headers = BytesHeaderParser(policy=INBOUND).parsebytes(raw[: end + 1] if end >= 0 else raw)
    # Every address either reading finds: the parser names the sender from one
    # of them, and more domains can only make the verdict stricter.
    found: list[str] = []
    with contextlib.suppress(*HEADER_ERRORS):
        found += [addr for _, addr in getaddresses(header_all(headers, "From"))]
    with contextlib.suppress(*HEADER_ERRORS):
        found += [
            a.addr_spec
            for h in headers.get_all("From", [])
            if isinstance(h, AddressHeader)
            for a in h.addresses
        ]
    domains = {a.rpartition("@")[2].lower().strip().rstrip(".") for a in found if "@" in a}
    return sorted(d for d in domains if d)


def _dmarc_record(domain: str, resolver: Resolver) -> tuple[dict[str, str] | None, str]:
    """The DMARC record for ``domain`` and where it was found (RFC 7489 §6.6.3)."""
    org = _org(domain)
    for at in dict.fromkeys((domain, org)):
        records = [r for r in resolver.lookup(f"_dmarc.{at}", "TXT") if _is_dmarc(r)]
        if len(records) == 1:
            return _tags(records[0]), at
        if records:
            return None, at  # several records: as if none (§6.6.3 step 5)
    return None, domain


def _is_dmarc(record: str) -> bool:
    return record.replace(" ", "").lower().startswith("v=dmarc1")


def _tags(record: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in record.split(";"):
        key, eq, value = part.partition("=")
        if eq:
            tags.setdefault(key.strip().lower(), value.strip().lower())
    return tags


@functools.cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # parses the bundled list once (~50 ms)


def _org(domain: str) -> str:
    return _suffixes().privatesuffix(domain) or domain


def _aligned(domain: str, from_domain: str, mode: str | None) -> bool:
    if not domain:
        return False
    if mode == "s":
        return domain == from_domain
    return _org(domain) == _org(from_domain)
