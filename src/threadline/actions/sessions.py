"""Server-side sessions for the agent UI.

The browser holds a random id; the database holds its SHA-256, the user and
the hash of the one CSRF token the session accepts. Ending a session deletes
the row, so every copy of the cookie stops working at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from threadline.storage.db import Tx
from threadline.storage.tables import sessions

__all__ = ["digest", "end_session", "end_user_sessions", "open_session"]


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def open_session(tx: Tx, *, user_id: int, csrf_token: str, lifetime: timedelta) -> str:
    """Start a session; returns the id for the cookie (stored only as a hash)."""
    tx.conn.execute(sessions.delete().where(sessions.c.expires_at < tx.now))
    token = secrets.token_urlsafe(32)
    tx.conn.execute(
        sessions.insert(),
        {
            "id_hash": digest(token),
            "user_id": user_id,
            "csrf_hash": digest(csrf_token),
            "created_at": tx.now,
            "expires_at": tx.now + lifetime,
        },
    )
    return token


def end_session(tx: Tx, *, token: str) -> None:
    tx.conn.execute(sessions.delete().where(sessions.c.id_hash == digest(token)))


def end_user_sessions(tx: Tx, *, user_id: int) -> int:
    result = tx.conn.execute(sessions.delete().where(sessions.c.user_id == user_id))
    return int(result.rowcount or 0)
