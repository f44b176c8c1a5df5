"""Meta's webhook proofs: the X-Hub-Signature-256 on every POST, and the
``hub.*`` handshake that proves we own the callback URL.

WhatsApp, Messenger and Instagram share both: one Meta app, one app secret,
one verify token, one callback URL.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

__all__ = ["handshake_challenge", "sign", "signature_valid"]

HEADER = "X-Hub-Signature-256"


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta sends: ``sha256=`` and the hex HMAC of the raw body."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(app_secret: str, body: bytes, header: str | None) -> bool:
    """Check the raw bytes as received: Meta signs its escaped-unicode JSON
    (``\\u00e4``), so a parsed-and-redumped body would not match."""
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(app_secret, body), header.strip())


def handshake_challenge(params: Mapping[str, str], verify_tokens: Iterable[str]) -> str | None:
    """The challenge to echo back when Meta's subscription request carries one of
    our verify tokens; None means answer 403."""
    if params.get("hub.mode") != "subscribe":
        return None
    given = params.get("hub.verify_token") or ""
    challenge = params.get("hub.challenge")
    if not given or challenge is None:
        return None
    # Check every token, not just until a match, so timing tells nothing.
    matched = False
    for token in verify_tokens:
        if token and hmac.compare_digest(token.encode(), given.encode()):
            matched = True
    return challenge if matched else None
