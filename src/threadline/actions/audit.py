"""The audit log: who did what to which subject, written with the change it records."""

from __future__ import annotations

from typing import Any

from threadline.storage.db import Tx
from threadline.storage.tables import audit_log

__all__ = ["audit"]


def audit(tx: Tx, actor: str, action: str, subject: str, data: dict[str, Any]) -> None:
    tx.conn.execute(
        audit_log.insert(),
        {"actor": actor, "action": action, "subject": subject, "data": data, "created_at": tx.now},
    )
