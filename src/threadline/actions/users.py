"""Agents and their API tokens.

Passwords are argon2id-hashed by the caller (in a thread: ~150 ms of CPU);
tokens are 256 random bits, so a SHA-256 of them is enough to store.
"""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from threadline.actions.errors import ActionError, Conflict, NotFound
from threadline.actions.sessions import end_user_sessions
from threadline.storage.db import Tx
from threadline.storage.tables import api_tokens, audit_log, users

__all__ = ["ROLES", "add_user", "deactivate_user", "hash_token", "issue_token", "set_role"]

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


def _user_id(tx: Tx, email: str) -> int:
    user_id = tx.conn.execute(
        sa.select(users.c.id).where(users.c.email == email.strip().lower())
    ).scalar()
    if user_id is None:
        raise NotFound(f"no user with the email {email}")
    return int(user_id)


def _audit(tx: Tx, actor: str, action: str, user_id: int, data: dict[str, object]) -> None:
    tx.conn.execute(
        audit_log.insert(),
        {
            "actor": actor,
            "action": action,
            "subject": f"user:{user_id}",
            "data": data,
            "created_at": tx.now,
        },
    )


def set_role(tx: Tx, *, email: str, role: str, actor: str) -> int:
    """Change a user's role. Sessions and tokens read the role on every request,
    so the change holds from the user's next request on."""
    if role not in ROLES:
        raise ActionError(f"role must be one of {', '.join(ROLES)}")
    user_id = _user_id(tx, email)
    tx.conn.execute(users.update().where(users.c.id == user_id).values(role=role))
    _audit(tx, actor, "user.set_role", user_id, {"role": role})
    return user_id


def deactivate_user(tx: Tx, *, email: str, actor: str) -> int:
    """Stop a user: their sessions end now, and their tokens fail from the next request."""
    user_id = _user_id(tx, email)
    tx.conn.execute(
        users.update()
        .where(users.c.id == user_id, users.c.deactivated_at.is_(None))
        .values(deactivated_at=tx.now)
    )
    ended = end_user_sessions(tx, user_id=user_id)
    _audit(tx, actor, "user.deactivate", user_id, {"sessions_ended": ended})
    return user_id
