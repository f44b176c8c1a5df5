"""Ids and short signed tokens we hand out: email Message-IDs, reply+<token>@
and bounce+<token>@ addresses, and the expiring tokens of /media/ links.

Lower-case hex HMAC rather than itsdangerous' base64: mail systems are allowed
to change the case of a local part, and some do.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

__all__ = ["new_message_id", "sign_id", "sign_until", "verify_id", "verify_until"]

_MAC_HEX = 12  # 48 bits: enough against guessing, short enough for an address
_DIGITS = re.compile(r"[0-9]{1,18}")
_HEX12 = re.compile(r"[0-9a-f]{12}")
_HEX32 = re.compile(r"[0-9a-f]{32}")


def _mac(purpose: str, value: int, secret: str) -> str:
    msg = f"{purpose}:{value}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()[:_MAC_HEX]


def sign_id(purpose: str, value: int, secret: str) -> str:
    return f"{value}.{_mac(purpose, value, secret)}"


def verify_id(purpose: str, token: str, secret: str) -> int | None:
    """The id inside a token we signed, or None for anything else."""
    raw_id, _, mac = token.strip().lower().partition(".")
    # str.isdigit() takes "²", which int() refuses; compare_digest refuses non-ASCII.
    if not _DIGITS.fullmatch(raw_id) or not _HEX12.fullmatch(mac):
        return None
    value = int(raw_id)
    return value if hmac.compare_digest(mac, _mac(purpose, value, secret)) else None


_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


def new_message_id(domain: str) -> str:
    """A fresh email Message-ID for our outbound mail (without brackets).

    128 random bits: a Message-ID in References is a thread hint, so nobody may
    guess one of ours. It names nothing; the conversation is found by looking the
    id up among stored messages. channels/email/loops recognizes our own mail
    coming back by the "tl." shape.
    """
    domain = domain.strip().lower()
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"not a domain: {domain!r}")
    return f"tl.{secrets.token_hex(16)}@{domain}"


def sign_until(purpose: str, value: int, expires: int, secret: str) -> str:
    """A token for ``value`` that verify_until accepts until the Unix time ``expires``.

    The full 128-bit MAC: these travel in URLs, where length costs nothing.
    """
    return f"{value}.{expires}.{_long_mac(purpose, value, expires, secret)}"


def verify_until(purpose: str, token: str, now: int, secret: str) -> int | None:
    """The id inside an unexpired token we signed, or None for anything else."""
    parts = token.split(".")
    if len(parts) != 3 or not all(_DIGITS.fullmatch(p) for p in parts[:2]):
        return None
    if not _HEX32.fullmatch(parts[2]):  # compare_digest refuses non-ASCII str
        return None
    value, expires = int(parts[0]), int(parts[1])
    if not hmac.compare_digest(parts[2], _long_mac(purpose, value, expires, secret)):
        return None
    return value if now < expires else None


def _long_mac(purpose: str, value: int, expires: int, secret: str) -> str:
    msg = f"{purpose}:{value}:{expires}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()[:32]
