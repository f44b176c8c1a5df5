"""Agents taking calls: who is on duty, and the phone an inbound call rings."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from threadline.actions.errors import ActionError, NotFound
from threadline.core.identity import InvalidIdentity, normalize_phone
from threadline.storage.db import Tx
from threadline.storage.tables import audit_log, users

__all__ = ["Duty", "set_duty"]


@dataclass(frozen=True, slots=True)
class Duty:
    user_id: int
    on_duty: bool
    phone: str | None


def set_duty(tx: Tx, user_id: int, *, on_duty: bool, phone: str | None = None) -> Duty:
    """Go on or off duty, optionally changing the phone that rings.

    Going on duty without a phone is refused: the agent would believe they are
    taking calls while callers went straight to voicemail.
    """
    row = tx.conn.execute(sa.select(users.c.phone).where(users.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"user {user_id} not found")
    number = row.phone
    if phone is not None:
        try:
            # Twilio dials E.164; a number typed without a country code is ambiguous.
            number = normalize_phone(phone) if phone.strip() else None
        except InvalidIdentity as exc:
            raise ActionError(f"{exc} (use the international format, e.g. +14155550100)") from exc
    if on_duty and not number:
        raise ActionError("set a phone number before going on duty")
    tx.conn.execute(
        users.update().where(users.c.id == user_id).values(on_duty=on_duty, phone=number)
    )
    tx.conn.execute(
        audit_log.insert(),
        {
            "actor": f"user:{user_id}",
            "action": "user.duty",
            "subject": f"user:{user_id}",
            "data": {"on_duty": on_duty, "phone": number},
            "created_at": tx.now,
        },
    )
    return Duty(user_id, on_duty, number)
