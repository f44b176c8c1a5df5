"""Signed identity tokens: the business's backend vouches for a signed-in user.

The page passes ``{user_id, email, hash}`` where ``hash`` is
``hex(HMAC-SHA256(identity_secret, user_id + "\\n" + email))`` (docs/widget.md,
"Verified"). Only a hash made with the inbox's secret makes the identities
``external:<user_id>`` and ``email:<email>`` verified for the visitor.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["MIN_SECRET", "identity_hash", "verify_identity"]

MIN_SECRET = 32  # characters; a shorter secret is refused rather than trusted


def identity_hash(secret: str, user_id: str, email: str) -> str:
    """What the business computes (and what tests sign with)."""
    message = f"{user_id}\n{email}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_identity(secret: str | None, user_id: str, email: str, given: str) -> bool:
    """Whether ``given`` is this user's hash under ``secret``, compared in constant time.

    False without a usable secret, and for a user id holding a newline: it would
    let two different (user id, email) pairs share one signed message.
    """
    if not secret or len(secret) < MIN_SECRET or "\n" in user_id:
        return False
    if not given.isascii() or len(given) != 64:
        return False
    try:
        expected = identity_hash(secret, user_id, email)
    except UnicodeEncodeError:  # a lone surrogate: no hash of ours could match it
        return False
    return hmac.compare_digest(expected, given.lower())
