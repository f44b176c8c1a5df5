"""authenticate: SPF, DKIM and DMARC against a zone published from a dict, with
mail signed by dkimpy as the sender's own server would sign it."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.support.dns import FakeResolver, dkim_key, dkim_sign, dns_server
from tests.support.factories import make_email
from tests.support.servers import free_port

from threadline.channels.email.authn import DnsError, DnsResolver, Verdict, authenticate

SENDER_IP = "192.0.2.10"  # inside example.com's SPF range
OTHER_IP = "203.0.113.9"


def zone(dmarc: str | None = "v=DMARC1; p=reject") -> FakeResolver:
    dns = FakeResolver()
    dns.add("example.com", "TXT", "v=spf1 ip4:192.0.2.0/24 -all")
    dns.add("bounces.example.com", "TXT", "v=spf1 ip4:192.0.2.0/24 -all")
    if dmarc is not None:
        dns.add("_dmarc.example.com", "TXT", dmarc)
    dns.publish_dkim("example.com")
    dns.publish_dkim("mail.example.com")
    dns.publish_dkim("evil.test")
    return dns


def check(
    raw: bytes, dns: FakeResolver, *, ip: str = OTHER_IP, mail_from: str = "x@evil.test"
) -> Verdict:
    return authenticate(raw, ip=ip, mail_from=mail_from, helo="mx.sender.test", resolver=dns)


RAW, _ = make_email()  # From: ana@example.com


def test_aligned_spf_pass_passes_dmarc() -> None:
    v = check(RAW, zone(), ip=SENDER_IP, mail_from="ana@example.com")
    assert (v.spf, v.dkim, v.dmarc, v.policy, v.forged) == ("pass", "none", "pass", "reject", False)


def test_spf_pass_of_a_subdomain_aligns_relaxed_but_not_strict() -> None:
    relaxed = check(RAW, zone(), ip=SENDER_IP, mail_from="b@bounces.example.com")
    strict = check(
        RAW, zone("v=DMARC1; p=reject; aspf=s"), ip=SENDER_IP, mail_from="b@bounces.example.com"
    )
    assert (relaxed.dmarc, strict.dmarc) == ("pass", "fail")


def test_a_forged_from_fails_dmarc() -> None:
    v = check(RAW, zone())
    assert (v.spf, v.dkim, v.dmarc, v.from_domain, v.forged) == (
        "none",
        "none",
        "fail",
        "example.com",
        True,
    )


def test_the_senders_own_dkim_signature_passes_from_anywhere() -> None:
    v = check(dkim_sign(RAW, "example.com"), zone())
    assert (v.dkim, v.dkim_domains, v.dmarc) == ("pass", ("example.com",), "pass")


def test_a_signature_of_a_subdomain_aligns_relaxed_but_not_strict() -> None:
    signed = dkim_sign(RAW, "mail.example.com")
    assert check(signed, zone()).dmarc == "pass"
    assert check(signed, zone("v=DMARC1; p=none; adkim=s")).dmarc == "fail"


def test_a_valid_signature_of_another_domain_does_not_align() -> None:
    v = check(dkim_sign(RAW, "evil.test"), zone())
    assert (v.dkim, v.dkim_domains, v.dmarc) == ("pass", ("evil.test",), "fail")


def test_a_signature_broken_in_transit_fails() -> None:
    tampered = dkim_sign(RAW, "example.com").replace(b"My order is late.", b"Send me money.")
    v = check(tampered, zone())
    assert (v.dkim, v.dmarc) == ("fail", "fail")


def test_a_second_author_does_not_hide_a_forged_first() -> None:
    raw, _ = make_email(sender="ana@example.com")
    raw = raw.replace(b"From: Ana Souza <ana@example.com>", b"From: ana@example.com, me@evil.test")
    dns = zone().add("_dmarc.evil.test", "TXT", "v=DMARC1; p=none")
    v = check(dkim_sign(raw, "evil.test"), dns)
    assert (v.dmarc, v.from_domain, v.forged) == ("fail", "example.com", True)


def test_policy_none_still_fails_but_says_so() -> None:
    v = check(RAW, zone("v=DMARC1; p=none"))
    assert (v.dmarc, v.policy, v.forged) == ("fail", "none", True)


def test_no_dmarc_record_cannot_be_judged() -> None:
    v = check(RAW, zone(dmarc=None))
    assert (v.dmarc, v.forged) == ("none", False)


def test_a_subdomain_uses_the_org_domains_sp() -> None:
    raw, _ = make_email(sender="ana@shop.example.com")
    v = check(raw, zone("v=DMARC1; p=none; sp=quarantine"))
    assert (v.from_domain, v.dmarc, v.policy) == ("shop.example.com", "fail", "quarantine")


def test_a_dns_failure_is_a_temperror_and_never_forged() -> None:
    dns = zone().fail("_dmarc.example.com")
    v = check(RAW, dns)
    assert (v.dmarc, v.forged) == ("temperror", False)
    spf_down = zone().fail("example.com")
    v = check(RAW, spf_down, ip=SENDER_IP, mail_from="ana@example.com")
    assert (v.spf, v.dmarc, v.forged) == ("temperror", "temperror", False)


def test_the_null_sender_is_checked_by_its_helo_name() -> None:
    dns = zone().add("mx.sender.test", "TXT", "v=spf1 -all")
    v = check(RAW, dns, mail_from="")
    assert (v.spf, v.dmarc) == ("fail", "fail")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"garbage",
        b"From: \r\n\r\n",
        b"DKIM-Signature: v=1; d=;\r\nFrom: a@example.com\r\n\r\nx",
    ],
)
def test_hostile_mail_never_raises(raw: bytes) -> None:
    assert isinstance(check(raw, zone()), Verdict)


def test_a_verdict_survives_the_receipt_context_and_rejects_junk() -> None:
    v = check(dkim_sign(RAW, "example.com"), zone())
    assert Verdict.from_context(v.as_context()) == v
    for junk in (None, "fail", {"spf": "pass"}, {"spf": "x", "dkim": "pass", "dmarc": "fail"}, []):
        assert Verdict.from_context(junk) is None


def test_the_dns_resolver_asks_a_real_server() -> None:
    zone = FakeResolver()
    zone.publish_dkim("example.com")  # longer than one 255-byte TXT string
    zone.add("example.com", "MX", "10 mx.example.com").add("mx.example.com", "A", "192.0.2.25")
    with dns_server(zone) as port:
        resolver = DnsResolver(timeout=2, nameservers=["127.0.0.1"], port=port)
        assert resolver.lookup("s1._domainkey.example.com", "TXT") == [dkim_key()[1]]
        assert resolver.lookup("example.com", "MX") == ["10 mx.example.com"]
        assert resolver.lookup("mx.example.com", "A") == ["192.0.2.25"]
        assert resolver.lookup("example.com", "TXT") == []  # the name exists, no TXT
        assert resolver.lookup("nowhere.example.com", "TXT") == []  # NXDOMAIN
        signed = dkim_sign(RAW, "example.com")
        assert check(signed, FakeResolver()).dkim == "fail"
        assert (
            authenticate(
                signed, ip=OTHER_IP, mail_from="x@evil.test", helo="h", resolver=resolver
            ).dkim
            == "pass"
        )


def test_the_dns_resolver_caches_answers_and_pickles_without_them() -> None:
    zone = FakeResolver().add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject")
    with dns_server(zone) as port:
        resolver = DnsResolver(timeout=2, nameservers=["127.0.0.1"], port=port)
        for _ in range(3):
            assert resolver.lookup("_dmarc.example.com", "TXT") == ["v=DMARC1; p=reject"]
        assert zone.asked == [("_dmarc.example.com", "TXT")]
        copy = pickle.loads(pickle.dumps(resolver))  # as sent to the worker process
        assert copy.lookup("_dmarc.example.com", "TXT") == ["v=DMARC1; p=reject"]
        assert len(zone.asked) == 2


def test_an_unreachable_dns_server_is_a_dns_error() -> None:
    resolver = DnsResolver(timeout=0.5, nameservers=["127.0.0.1"], port=free_port())
    with pytest.raises(DnsError):
        resolver.lookup("example.com", "TXT")


SIGNED = dkim_sign(RAW, "example.com")


@given(
    cut=st.integers(0, len(SIGNED)),
    junk=st.binary(max_size=64),
    keep=st.integers(0, len(SIGNED)),
)
def test_a_mangled_signed_mail_never_raises(cut: int, junk: bytes, keep: int) -> None:
    # The checks run on whatever a stranger's MTA sends: a bad byte anywhere,
    # in the signature or the From header, yields a verdict and nothing else.
    raw = SIGNED[:cut] + junk + SIGNED[cut:][:keep]
    v = check(raw, zone())
    assert isinstance(v, Verdict)
    assert v.dmarc in {"pass", "fail", "none", "permerror", "temperror"}
