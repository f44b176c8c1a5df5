"""IMAP inboxes: connects the poller (the edge) to the bus and the mailbox state.

The last imported UID is saved in the same transaction as the message, so a
restart neither re-imports nor skips anything; a UIDVALIDITY change resyncs
and the receipts' Message-ID key absorbs the overlap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from threadline.actions.receipts import Payload
from threadline.bus import Bus
from threadline.channels.email.imap import ImapConfig, ImapPoller, MailboxState
from threadline.ports import Inbox
from threadline.storage.db import Tx
from threadline.storage.tables import mailbox_state

__all__ = ["imap_config", "mailbox_poller"]


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


def mailbox_poller(bus: Bus, inbox: Inbox, config: ImapConfig) -> ImapPoller:
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

    return ImapPoller(config, load_state=load_state, deliver=deliver)
