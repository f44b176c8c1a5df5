"""A business calendar for tests: Berlin office hours, Monday to Friday 9-17."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

__all__ = ["BERLIN", "HOURS", "berlin"]

BERLIN = ZoneInfo("Europe/Berlin")
HOURS = {
    "timezone": "Europe/Berlin",
    "days": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
}


def berlin(text: str) -> datetime:
    """A Berlin wall-clock time ("2026-12-04 16:00") as aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN).astimezone(UTC)
