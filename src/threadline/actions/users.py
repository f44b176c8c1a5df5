"""Agents and their API tokens.

Passwords are argon2id-hashed by the caller (in a thread: ~150 ms of CPU);
tokens are 256 random bits, so a SHA-256 of them is enough to store.
"""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from threadline.actions.errors import ActionError, Conflict, NotFound
from threadline.storage.db import Tx
from threadline.storage.tables import api_tokens, audit_log, users

__all__ = ["ROLES", "add_user", "hash_token", "issue_token"]

ROLES = ("admin", "agent", "viewer")
TOKEN_PREFIX = "tl_"  # noqa: S105 - a public prefix that makes leaked tokens greppable


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    tx: Tx, *, email: str, name: str, role: str, password_hash: str | None, actor: str
) -> int:
    if role not in ROLES:
        raise ActionError(f"role must be one of {', '.join(ROLES)}")
    email = email.strip().lower()
    if tx.conn.execute(sa.select(users.c.id).where(users.c.email == email)).first():
        raise Conflict(f"a user with the email {email} exists")
    user_id: int = tx.conn.execute(
        users.insert().returning(users.c.id),
        {
            "email": email,
            "name": name,
            "role": role,
            "password_hash": password_hash,
            "created_at": tx.now,
        },
    ).scalar_one()
    tx.conn.execute(
        audit_log.insert(),
        {
            "actor": actor,
            "action": "user.add",
            "subject": f"user:{user_id}",
            "data": {"email": email, "role": role},
            "created_at": tx.now,
        },
    )
    return user_id


def issue_token(tx: Tx, *, email: str, name: str, actor: str) -> str:
    """Create a token for the user; the plain token is returned once and never stored."""
    user_id = tx.conn.execute(
        sa.select(users.c.id).where(users.c.email == email.strip().lower())
    ).scalar()
    if user_id is None:
        raise NotFound(f"no user with the email {email}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    tx.conn.execute(
        api_tokens.insert(),
        {"user_id": user_id, "token_hash": hash_token(token), "name": name, "created_at": tx.now},
    )
    tx.conn.execute(
        audit_log.insert(),
        {
            "actor": actor,
            "action": "token.issue",
            "subject": f"user:{user_id}",
            "data": {"name": name},
            "created_at": tx.now,
        },
    )
    return token
