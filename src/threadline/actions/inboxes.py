"""Inboxes: one configured instance of a channel (an address, a number, a widget)."""

from __future__ import annotations

from typing import Any

from threadline.actions.errors import ActionError
from threadline.core.identity import InvalidIdentity, normalize_email, normalize_phone
from threadline.storage.db import Tx
from threadline.storage.tables import inboxes

__all__ = ["add_inbox"]

SUPPORTED = ("email", "api", "sms", "voice", "whatsapp", "messenger", "instagram", "telegram")


def add_inbox(tx: Tx, *, channel: str, name: str, address: str, config: dict[str, Any]) -> int:
    if channel not in SUPPORTED:
        raise ActionError(f"inbox kind must be one of {', '.join(SUPPORTED)}")
    try:
        if channel == "email":
            address = normalize_email(address)
        elif channel in ("sms", "voice"):
            address = normalize_phone(address)  # the Twilio number, as Twilio sends To
        elif not address.strip():
            raise ActionError("an inbox needs an address (page id, phone number id, bot name…)")
    except InvalidIdentity as exc:
        raise ActionError(str(exc)) from exc
    inbox_id: int = tx.conn.execute(
        inboxes.insert().returning(inboxes.c.id),
        {
            "channel": channel,
            "name": name,
            "address": address,
            "config": config,
            "created_at": tx.now,
        },
    ).scalar_one()
    return inbox_id
