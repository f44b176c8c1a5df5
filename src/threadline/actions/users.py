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
from threadline.core.identity import InvalidIdentity, normalize_email
from threadline.storage.db import Tx
from threadline.storage.tables import api_tokens, audit_log, users

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "ROLES",
    "add_user",
    "check_new_user",
    "deactivate_user",
    "hash_token",
    "issue_token",
    "reactivate_user",
    "rehash_password",
    "revoke_token",
    "set_role",
    "user_email",
]

ROLES = ("admin", "agent", "viewer")
MIN_PASSWORD = 12  # characters; a passphrase of three words is longer
MAX_PASSWORD = 1024  # argon2 hashes any length; web/login.py checks no more
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


def check_new_user(*, email: str, name: str, role: str, password: str) -> tuple[str, str]:
    """The normalized email and name of a user about to be added; raises ActionError.
    Runs before the password is hashed, so a refused form costs no argon2 run."""
    if role not in ROLES:
        raise ActionError(f"role must be one of {', '.join(ROLES)}")
    try:
        email = normalize_email(email)
    except InvalidIdentity as exc:
        raise ActionError(str(exc)) from exc
    if len(email) > 320:
        raise ActionError("an email address has at most 320 characters")
    name = " ".join(name.split()) or email.split("@")[0]
    if len(name) > 200:
        raise ActionError("a name has at most 200 characters")
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ActionError(f"the password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return email, name


def user_email(tx: Tx, user_id: int) -> str:
    """The email that names a user in the verbs above; NotFound when there is none."""
    email = tx.conn.execute(sa.select(users.c.email).where(users.c.id == user_id)).scalar()
    if email is None:
        raise NotFound(f"user {user_id} not found")
    return str(email)


def reactivate_user(tx: Tx, *, email: str, actor: str) -> int:
    """Let a deactivated user sign in again. The sessions ended at deactivation stay
    ended; tokens that were not revoked work again."""
    user_id = _user_id(tx, email)
    tx.conn.execute(
        users.update()
        .where(users.c.id == user_id, users.c.deactivated_at.is_not(None))
        .values(deactivated_at=None)
    )
    _audit(tx, actor, "user.reactivate", user_id, {})
    return user_id


def revoke_token(tx: Tx, *, token_id: int, actor: str) -> int:
    """Stop one API token from its next request on; returns its owner's id.
    Revoking a revoked token keeps the first time it was revoked."""
    row = tx.conn.execute(
        sa.select(api_tokens.c.user_id, api_tokens.c.name).where(api_tokens.c.id == token_id)
    ).first()
    if row is None:
        raise NotFound(f"token {token_id} not found")
    tx.conn.execute(
        api_tokens.update()
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=tx.now)
    )
    _audit(tx, actor, "token.revoke", int(row.user_id), {"token_id": token_id, "name": row.name})
    return int(row.user_id)


def rehash_password(tx: Tx, *, user_id: int, old: str, new: str) -> bool:
    """Store a password's new hash (same password, today's argon2 parameters), only
    if the stored hash is still the one that was checked: a password changed in
    the meantime wins. Returns whether it was stored."""
    result = tx.conn.execute(
        users.update()
        .where(users.c.id == user_id, users.c.password_hash == old)
        .values(password_hash=new)
    )
    return bool(result.rowcount)
