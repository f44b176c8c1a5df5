"""Failed sign-ins, recorded per account and per client address for the throttle.

Durable and shared by every web process: a restart or a second process must
not hand an attacker a fresh budget of guesses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.storage.db import Tx
from threadline.storage.tables import as_utc, login_failures

__all__ = ["Failures", "clear_failures", "recent_failures", "record_failure"]

# Failures older than this are of no use to any window we would configure.
_KEEP = timedelta(days=1)
MAX_EMAIL = 320
MAX_CLIENT = 64


@dataclass(frozen=True, slots=True)
class Failures:
    count: int
    latest: datetime | None


def _bounded(email: str, client: str) -> tuple[str, str]:
    return email[:MAX_EMAIL], client[:MAX_CLIENT]


def record_failure(tx: Tx, *, email: str, client: str) -> None:
    email, client = _bounded(email, client)
    tx.conn.execute(
        login_failures.insert(), {"email": email, "client": client, "created_at": tx.now}
    )
    old = login_failures.c.created_at < tx.now - _KEEP
    tx.conn.execute(
        login_failures.delete().where(
            sa.or_(login_failures.c.email == email, login_failures.c.client == client), old
        )
    )


def clear_failures(tx: Tx, *, email: str) -> None:
    """A right password ends the account's run of failures (not the address's)."""
    tx.conn.execute(login_failures.delete().where(login_failures.c.email == email[:MAX_EMAIL]))


def recent_failures(
    conn: Connection, *, email: str, client: str, since: datetime
) -> tuple[Failures, Failures]:
    """Failures since ``since`` for the account and for the client address."""
    email, client = _bounded(email, client)
    found = []
    for column, value in ((login_failures.c.email, email), (login_failures.c.client, client)):
        row = conn.execute(
            sa.select(sa.func.count(), sa.func.max(login_failures.c.created_at)).where(
                column == value, login_failures.c.created_at >= since
            )
        ).one()
        found.append(Failures(int(row[0]), as_utc(row[1])))
    return found[0], found[1]
