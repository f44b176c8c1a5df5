"""Inboxes: one configured instance of a channel (an address, a number, a widget)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
import structlog

from threadline.actions.errors import ActionError, Conflict, NotFound
from threadline.core.chat_config import CHAT_KEYS, ChatConfigError, parse_chat_config
from threadline.core.identity import InvalidIdentity, normalize_email, normalize_phone
from threadline.ports import Inbox
from threadline.storage.db import Tx
from threadline.storage.secrets import SecretError, open_config, seal_config
from threadline.storage.tables import audit_log, inboxes

__all__ = [
    "CHAT_KEY",
    "add_inbox",
    "connect_inbox",
    "load_inbox",
    "new_chat_key",
    "reveal_chat_secret",
    "seal_inbox_secrets",
    "update_chat_inbox",
]

log = structlog.get_logger(__name__)

SUPPORTED = (
    "email",
    "api",
    "sms",
    "voice",
    "chat",
    "whatsapp",
    "messenger",
    "instagram",
    "telegram",
)
# A chat inbox's address is the public key in the widget's snippet (docs/widget.md).
CHAT_KEY = re.compile(r"[a-z0-9_-]{3,64}")


def new_chat_key() -> str:
    return "chat_" + secrets.token_hex(8)


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
        elif channel == "chat":
            address = address.strip().lower() or new_chat_key()
            if not CHAT_KEY.fullmatch(address):
                raise ActionError("a chat inbox key is 3 to 64 of a-z, 0-9, _ and -")
            config = _with_chat_settings(config, config)
        elif not address.strip():
            raise ActionError("an inbox needs an address (page id, phone number id, bot name…)")
    except InvalidIdentity as exc:
        raise ActionError(str(exc)) from exc
    taken = sa.select(inboxes.c.id).where(
        inboxes.c.channel == channel, inboxes.c.address == address
    )
    if tx.conn.execute(taken).first() is not None:
        raise Conflict(f"a {channel} inbox for {address} exists")
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


def _with_chat_settings(config: Mapping[str, Any], chat: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with its chat settings replaced by ``chat``'s, checked and with
    every default written out (a new inbox gets its identity secret here)."""
    try:
        parsed = parse_chat_config(chat)
    except ChatConfigError as exc:
        raise ActionError(str(exc)) from exc
    return {**config, **parsed.as_config()}


def connect_inbox(
    tx: Tx,
    *,
    channel: str,
    name: str,
    address: str,
    config: dict[str, Any],
    secret: str,
    actor: str,
) -> int:
    """add_inbox for a person at the settings page: bounded to what the columns
    hold, and audited. The audit names the inbox, never its config."""
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise ActionError("an inbox needs a name of 1 to 200 characters")
    if len(address.strip()) > 320:
        raise ActionError("an inbox address has at most 320 characters")
    inbox_id = add_inbox(
        tx, channel=channel, name=name, address=address.strip(), config=config, secret=secret
    )
    stored = tx.conn.execute(sa.select(inboxes.c.address).where(inboxes.c.id == inbox_id)).scalar()
    tx.conn.execute(
        audit_log.insert(),
        {
            "actor": actor,
            "action": "inbox.add",
            "subject": f"inbox:{inbox_id}",
            "data": {"channel": channel, "name": name, "address": stored},
            "created_at": tx.now,
        },
    )
    return inbox_id


def update_chat_inbox(
    tx: Tx,
    inbox_id: int,
    config: Mapping[str, Any],
    *,
    secret: str,
    actor: str,
    name: str | None = None,
) -> list[str]:
    """Change a chat inbox's settings (branding, origins, pre-chat; a new identity
    secret) and, given, its name. Keys ``config`` leaves out keep their values,
    and settings that are not the chat's (hours) are kept. Re-sealed under the
    inbox's id; audited with the names of the changed settings, never a value
    of the secret. Returns those names."""
    row = tx.conn.execute(
        sa.select(inboxes.c.channel, inboxes.c.name, inboxes.c.config).where(
            inboxes.c.id == inbox_id
        )
    ).first()
    if row is None or row.channel != "chat":
        raise NotFound(f"no chat inbox {inbox_id}")
    try:
        # strict: re-sealing a secret that no longer opens would lose it silently
        current = open_config(row.config or {}, inbox_id=inbox_id, secret=secret)
    except SecretError as exc:
        raise ActionError(f"{exc}: set a new identity secret") from exc
    unknown = set(config) - set(CHAT_KEYS)
    if unknown:
        raise ActionError(f"not a chat setting: {', '.join(sorted(unknown))}")
    merged = _with_chat_settings(current, {**_chat_part(current), **config})
    changed = sorted(k for k in CHAT_KEYS if merged.get(k) != current.get(k))
    values: dict[str, Any] = {"config": seal_config(merged, inbox_id=inbox_id, secret=secret)}
    if name is not None:
        name = " ".join(name.split())
        if not name or len(name) > 200:
            raise ActionError("an inbox needs a name of 1 to 200 characters")
        if name != row.name:
            values["name"] = name
            changed.append("name")
    tx.conn.execute(inboxes.update().where(inboxes.c.id == inbox_id).values(**values))
    tx.conn.execute(
        audit_log.insert(),
        {
            "actor": actor,
            "action": "inbox.update",
            "subject": f"inbox:{inbox_id}",
            "data": {"channel": "chat", "changed": changed},
            "created_at": tx.now,
        },
    )
    return changed


def reveal_chat_secret(tx: Tx, inbox_id: int, *, secret: str, actor: str) -> str:
    """A chat inbox's identity secret, for the admin who asked to see it: audited,
    as showing a secret is handing it out."""
    row = tx.conn.execute(
        sa.select(inboxes.c.channel, inboxes.c.config).where(inboxes.c.id == inbox_id)
    ).first()
    if row is None or row.channel != "chat":
        raise NotFound(f"no chat inbox {inbox_id}")
    try:
        opened = open_config(row.config or {}, inbox_id=inbox_id, secret=secret)
    except SecretError as exc:
        raise ActionError(f"{exc}: regenerate the identity secret") from exc
    value = opened.get("identity_secret")
    if not isinstance(value, str) or not value:
        raise ActionError("this chat inbox has no identity secret yet: regenerate it")
    tx.conn.execute(
        audit_log.insert(),
        {
            "actor": actor,
            "action": "inbox.secret_revealed",
            "subject": f"inbox:{inbox_id}",
            "data": {"channel": "chat", "key": "identity_secret"},
            "created_at": tx.now,
        },
    )
    return value


def _chat_part(config: Mapping[str, Any]) -> dict[str, Any]:
    return {k: config[k] for k in CHAT_KEYS if k in config}


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
