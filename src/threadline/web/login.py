"""Signing in: throttle, check the password under the hashing bound, open a session.

The answer costs the same for an unknown email, a deactivated user and a wrong
password (each runs one argon2 check), so timing tells nobody who has an account.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from litestar.connection import ASGIConnection
from litestar.middleware.csrf import generate_csrf_token

from threadline.actions.logins import clear_failures, recent_failures, record_failure
from threadline.actions.sessions import end_session, open_session
from threadline.actions.users import rehash_password
from threadline.bootstrap import Container
from threadline.core.throttle import ThrottlePolicy, wait_before_next_try
from threadline.passwords import Busy
from threadline.settings import Settings
from threadline.storage.tables import users
from threadline.web.ratelimit import peer_address

__all__ = ["Failed", "SignedIn", "Throttled", "client_address", "sign_in"]

MAX_PASSWORD = 1024  # argon2 hashes any length; nobody's password is longer


@dataclass(frozen=True, slots=True)
class SignedIn:
    session_token: str
    csrf_token: str


@dataclass(frozen=True, slots=True)
class Failed:
    pass


@dataclass(frozen=True, slots=True)
class Throttled:
    retry_after: int  # seconds


def client_address(request: ASGIConnection[Any, Any, Any, Any], trusted_proxies: list[str]) -> str:
    """The socket peer; through a trusted proxy, the nearest untrusted X-Forwarded-For hop."""
    return peer_address(request.scope, trusted_proxies)


def _policies(settings: Settings) -> tuple[ThrottlePolicy, ThrottlePolicy]:
    window = timedelta(minutes=settings.login_window_minutes)
    backoff = timedelta(seconds=settings.login_backoff_seconds)
    return (
        ThrottlePolicy(window, settings.login_max_failures_per_account, backoff),
        ThrottlePolicy(window, settings.login_max_failures_per_client, backoff),
    )


async def sign_in(
    c: Container, *, email: str, password: str, client: str, previous: str | None = None
) -> SignedIn | Failed | Throttled:
    """SignedIn, Failed or Throttled; raises passwords.Busy when hashing is saturated.
    ``previous`` is the session id the browser already holds, if any."""
    email = email.strip().lower()
    account_policy, client_policy = _policies(c.settings)
    now = c.clock.now()
    # A flood is refused before it costs a read: a wait this process already
    # decided, or no room left to check a password anyway.
    keys = (f"account:{email}", f"client:{client}")
    known = c.login_waits.wait(keys, now)
    if known > timedelta(0):
        return Throttled(max(1, math.ceil(known.total_seconds())))
    if c.passwords.saturated():
        raise Busy("too many sign-ins at once; try again in a few seconds")
    since = now - account_policy.window
    account, address = await c.db.read(
        lambda conn: recent_failures(conn, email=email, client=client, since=since)
    )
    account_wait = wait_before_next_try(account.count, account.latest, now, account_policy)
    client_wait = wait_before_next_try(address.count, address.latest, now, client_policy)
    for key, wait in zip(keys, (account_wait, client_wait), strict=True):
        if wait > timedelta(0):
            c.login_waits.remember(key, now + wait)
    wait = max(account_wait, client_wait)
    if wait > timedelta(0):
        return Throttled(max(1, math.ceil(wait.total_seconds())))
    row = await c.db.read(
        lambda conn: conn.execute(
            sa.select(users.c.id, users.c.password_hash, users.c.deactivated_at).where(
                users.c.email == email
            )
        ).first()
    )
    usable = row is not None and row.deactivated_at is None and len(password) <= MAX_PASSWORD
    stored = row.password_hash if usable and row is not None else None
    ok = await c.passwords.verify(stored, password[:MAX_PASSWORD])
    if not ok or row is None:
        await c.bus.execute(lambda tx: record_failure(tx, email=email, client=client))
        return Failed()
    csrf = generate_csrf_token(c.bus.cfg.secret_key)
    lifetime = timedelta(hours=c.settings.session_hours)
    user_id = int(row.id)
    upgraded = await _rehashed(c, stored, password)

    def start(tx: Any) -> str:
        clear_failures(tx, email=email)
        if upgraded is not None and stored is not None:
            rehash_password(tx, user_id=user_id, old=stored, new=upgraded)
        if previous:  # a fresh id at every sign-in; the browser's old one ends
            end_session(tx, token=previous)
        return open_session(tx, user_id=user_id, csrf_token=csrf, lifetime=lifetime)

    token = await c.bus.execute(start)
    return SignedIn(token, csrf)


async def _rehashed(c: Container, stored: str | None, password: str) -> str | None:
    """The password hashed again with today's parameters, when its stored hash was
    made with others (an older default): the only moment we hold the password.
    Skipped when hashing is saturated; the next sign-in tries again."""
    if stored is None or not c.passwords.needs_rehash(stored):
        return None
    try:
        return await c.passwords.hash(password)
    except Busy:
        return None
