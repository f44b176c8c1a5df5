"""Short signed tokens for addresses we hand out (reply+<token>@, bounce+<token>@).

Lower-case hex HMAC rather than itsdangerous' base64: mail systems are allowed
to change the case of a local part, and some do.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["sign_id", "verify_id"]

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
