"""Inboxes: one configured instance of a channel (an address, a number, a widget)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
import structlog

from threadline.actions.errors import ActionError
from threadline.core.identity import InvalidIdentity, normalize_email, normalize_phone
from threadline.ports import Inbox
from threadline.storage.db import Tx
from threadline.storage.secrets import SecretError, open_config, seal_config
from threadline.storage.tables import inboxes

__all__ = ["add_inbox", "load_inbox", "seal_inbox_secrets"]

log = structlog.get_logger(__name__)

SUPPORTED = ("email", "api", "sms", "voice", "whatsapp", "messenger", "instagram", "telegram")


def add_inbox(
    tx: Tx, *, channel: str, name: str, address: str, config: dict[str, Any], secret: str
) -> int:
    """Add an inbox; its provider secrets are stored sealed with the instance ``secret``."""
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
            "config": {},
            "created_at": tx.now,
        },
    ).scalar_one()
    # Sealed under the new id, so a sealed value copied to another inbox does not open.
    sealed = seal_config(config, inbox_id=inbox_id, secret=secret)
    tx.conn.execute(inboxes.update().where(inboxes.c.id == inbox_id).values(config=sealed))
    return inbox_id


def load_inbox(row: Any, secret: str) -> Inbox:
    """An inboxes row as the adapters use it: the one place its secrets are opened."""
    config: Mapping[str, Any] = row.config or {}
    try:
        opened = open_config(config, inbox_id=row.id, secret=secret)
    except SecretError:
        # The instance secret changed: this inbox's secrets are lost, not the others.
        log.error("inbox.secrets_unreadable", inbox=row.id)
        opened = open_config(config, inbox_id=row.id, secret=secret, strict=False)
    return Inbox(row.id, row.channel, row.name, row.address, opened)


def seal_inbox_secrets(tx: Tx, *, secret: str) -> int:
    """Seal secrets still stored in plaintext (inboxes added before 0004); returns how
    many inboxes changed. Run at every start: it is a no-op once all are sealed."""
    changed = 0
    for row in tx.conn.execute(sa.select(inboxes.c.id, inboxes.c.config)).all():
        config = dict(row.config or {})
        sealed = seal_config(config, inbox_id=row.id, secret=secret)
        if sealed != config:
            tx.conn.execute(inboxes.update().where(inboxes.c.id == row.id).values(config=sealed))
            changed += 1
    return changed
