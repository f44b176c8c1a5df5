"""The business profile: the name customers know, the time zone agents work in,
and the signature under email replies. One row (id 1), edited by admins."""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from sqlalchemy.dialects import postgresql, sqlite

from threadline.actions.errors import ActionError
from threadline.storage.db import Tx
from threadline.storage.tables import audit_log, business_profile

__all__ = [
    "MAX_NAME",
    "MAX_SIGNATURE",
    "MAX_ZONE",
    "check_business_profile",
    "known_zones",
    "set_business_profile",
    "zone_known",
]

MAX_NAME = 200
MAX_ZONE = 64
MAX_SIGNATURE = 2000


@cache
def known_zones() -> tuple[str, ...]:
    """The IANA zones of this server's tz database, sorted; read from disk once."""
    return tuple(sorted(available_timezones()))


def zone_known(name: str) -> bool:
    """An IANA zone this server knows ("Europe/Lisbon", "UTC").

    A lookup in the list, not ZoneInfo(name): that would also load files such as
    "posixrules" or "localtime" that are no zone a person picks."""
    return name in _zone_set()


@cache
def _zone_set() -> frozenset[str]:
    return frozenset(known_zones())


def _has_control(text: str, allowed: str = "") -> bool:
    # PostgreSQL refuses NUL in text; the rest would only garble a page or a header.
    return any((ord(ch) < 32 or ord(ch) == 127) and ch not in allowed for ch in text)


def check_business_profile(
    *, name: str, time_zone: str, email_signature: str
) -> tuple[str, str, str | None]:
    """The profile as it will be stored, or ActionError saying what is wrong."""
    name = name.strip()
    time_zone = time_zone.strip()
    # Browsers send a textarea's line ends as CRLF; a signature's layout is otherwise its own.
    signature = email_signature.replace("\r\n", "\n").strip("\n")
    if not name or len(name) > MAX_NAME:
        raise ActionError(f"the business needs a name of 1 to {MAX_NAME} characters")
    if _has_control(name):
        raise ActionError("the business name cannot hold control characters")
    if not zone_known(time_zone):
        raise ActionError("the time zone must be an IANA zone such as Europe/Lisbon")
    if len(signature) > MAX_SIGNATURE:
        raise ActionError(f"the email signature holds at most {MAX_SIGNATURE} characters")
    if _has_control(signature, "\n\t"):
        raise ActionError("the email signature cannot hold control characters")
    return name, time_zone, signature if signature.strip() else None


def set_business_profile(
    tx: Tx, *, name: str, time_zone: str, email_signature: str, actor_id: int
) -> None:
    """Store the profile, checked; audited as the admin who saved it."""
    name, time_zone, signature = check_business_profile(
        name=name, time_zone=time_zone, email_signature=email_signature
    )
    values = {
        "id": 1,
        "name": name,
        "time_zone": time_zone,
        "email_signature": signature,
        "updated_at": tx.now,
        "updated_by": actor_id,
    }
    # One upsert: two admins saving the first profile at once cannot collide on id 1.
    stmt: Any
    if tx.conn.dialect.name == "postgresql":
        stmt = postgresql.insert(business_profile).values(values)
    else:
        stmt = sqlite.insert(business_profile).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[business_profile.c.id],
        set_={k: stmt.excluded[k] for k in values if k != "id"},
    )
    tx.conn.execute(stmt)
    tx.conn.execute(
        audit_log.insert(),
        {
            "actor": f"user:{actor_id}",
            "action": "business_profile.set",
            "subject": "business_profile",
            "data": {"name": name, "time_zone": time_zone, "signature": signature is not None},
            "created_at": tx.now,
        },
    )
