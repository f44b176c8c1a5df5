"""IMAP inboxes: connects the poller (the edge) to the bus and the mailbox state.

The last imported UID is saved in the same transaction as the message, so a
restart neither re-imports nor skips anything; a UIDVALIDITY change resyncs
and the receipts' Message-ID key absorbs the overlap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects import postgresql, sqlite

from threadline.actions.receipts import Payload, quarantine_payload
from threadline.bus import Bus
from threadline.channels.email.imap import ImapConfig, ImapPoller, MailboxState
from threadline.ports import Inbox
from threadline.storage.db import Tx
from threadline.storage.tables import mailbox_state

__all__ = ["imap_config", "mailbox_poller"]

log = structlog.get_logger(__name__)


def imap_config(inbox: Inbox) -> ImapConfig | None:
    cfg = inbox.config.get("imap")
    if not isinstance(cfg, Mapping) or not cfg.get("host"):
        return None
    return ImapConfig(
        host=str(cfg["host"]),
        port=int(cfg.get("port", 993 if cfg.get("ssl", True) else 143)),
        username=str(cfg["username"]),
        password=str(cfg["password"]),
        folder=str(cfg.get("folder", "INBOX")),
        ssl=bool(cfg.get("ssl", True)),
    )


def _save_state(tx: Tx, inbox_id: int, folder: str, uidvalidity: int, uid: int) -> None:
    values: dict[str, Any] = {
        "inbox_id": inbox_id,
        "folder": folder,
        "uidvalidity": uidvalidity,
        "last_uid": uid,
    }
    insert: Any = postgresql.insert if tx.conn.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(mailbox_state).values(values)
    tx.conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["inbox_id", "folder"],
            set_={"uidvalidity": uidvalidity, "last_uid": uid},
        )
    )


def mailbox_poller(
    bus: Bus, inbox: Inbox, config: ImapConfig, *, max_bytes: int | None = None
) -> ImapPoller:
    async def load_state() -> MailboxState:
        row = await bus.db.read(
            lambda c: c.execute(
                sa.select(mailbox_state.c.uidvalidity, mailbox_state.c.last_uid).where(
                    mailbox_state.c.inbox_id == inbox.id, mailbox_state.c.folder == config.folder
                )
            ).first()
        )
        return MailboxState(None, 0) if row is None else MailboxState(row.uidvalidity, row.last_uid)

    async def deliver(raw: bytes, uidvalidity: int, uid: int) -> None:
        await bus.ingest(
            Payload(inbox.id, "email", raw, {"rcpt_tos": [inbox.address], "imap_uid": uid}),
            also=lambda tx: _save_state(tx, inbox.id, config.folder, uidvalidity, uid),
        )

    async def refuse(size: int, uidvalidity: int, uid: int) -> None:
        # Quarantined unfetched, with the reason, so that the UIDs after it go on
        # and an operator can see what was left in the mailbox.
        reason = (
            f"IMAP message UID {uid} in {config.folder} is {size} bytes; "
            f"inbound email is capped at {max_bytes} (THREADLINE_EMAIL_MAX_BYTES)"
        )
        payload = Payload(inbox.id, "email", b"", {"imap_uid": uid, "imap_size": size})
        key = f"imap-too-large:{config.folder}:{uidvalidity}:{uid}"

        def record(tx: Tx) -> None:
            quarantine_payload(tx, payload, reason, key)
            _save_state(tx, inbox.id, config.folder, uidvalidity, uid)

        log.warning("imap.message_too_large", inbox=inbox.id, uid=uid, size=size)
        await bus.execute(record)

    return ImapPoller(
        config, load_state=load_state, deliver=deliver, refuse=refuse, max_bytes=max_bytes
    )
