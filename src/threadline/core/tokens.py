"""Ids and short signed tokens we hand out: email Message-IDs, reply+<token>@
and bounce+<token>@ addresses.

Lower-case hex HMAC rather than itsdangerous' base64: mail systems are allowed
to change the case of a local part, and some do.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

__all__ = ["new_message_id", "sign_id", "verify_id"]

_MAC_HEX = 12  # 48 bits: enough against guessing, short enough for an address


def _mac(purpose: str, value: int, secret: str) -> str:
    msg = f"{purpose}:{value}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()[:_MAC_HEX]


def sign_id(purpose: str, value: int, secret: str) -> str:
    return f"{value}.{_mac(purpose, value, secret)}"


def verify_id(purpose: str, token: str, secret: str) -> int | None:
    """The id inside a token we signed, or None for anything else."""
    raw_id, _, mac = token.strip().lower().partition(".")
    if not raw_id.isdigit() or len(raw_id) > 18:
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
