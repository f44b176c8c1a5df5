"""The business profile as stored, or the server's settings until an admin saves one."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.settings import Settings
from threadline.storage.tables import business_profile as profile_table

__all__ = ["business_profile"]


def business_profile(conn: Connection, settings: Settings) -> dict[str, Any]:
    """name, time_zone, email_signature, updated_at and updated_by (None while the
    THREADLINE_BUSINESS_* defaults hold, so existing deployments keep their values)."""
    row = conn.execute(
        sa.select(
            profile_table.c.name,
            profile_table.c.time_zone,
            profile_table.c.email_signature,
            profile_table.c.updated_at,
            profile_table.c.updated_by,
        ).where(profile_table.c.id == 1)
    ).first()
    if row is not None:
        return dict(row._mapping)
    return {
        "name": settings.business_name,
        "time_zone": settings.business_time_zone,
        "email_signature": settings.business_signature,
        "updated_at": None,
        "updated_by": None,
    }
