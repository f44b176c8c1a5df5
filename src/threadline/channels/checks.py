"""Checks every JSON or form parser applies at its boundary.

A provider's payload is hostile until these say otherwise: a value is used only
once its type is known, times and numbers are bounded to what the store and
``datetime`` can hold, and text is something both databases accept. Each check
raises PayloadError (or returns a safe default), never anything else.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from threadline.core.identity import InvalidIdentity, normalize
from threadline.core.model import IdentityRef, PayloadError

__all__ = [
    "MAX_DEPTH",
    "MAX_ID",
    "claimed_time",
    "clean_text",
    "identity",
    "load_json",
    "scalar_text",
    "unix_time",
]

MAX_DEPTH = 64  # far deeper than any provider's real payload
MAX_ID = 2**63 - 1  # what a BIGINT column holds
# Timestamps outside these years are noise or an attack, never a real event.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def load_json(body: bytes) -> Any:
    """Decode JSON, refusing documents nested deeper than MAX_DEPTH (so no walk of
    it, and no str() of a part of it, can recurse without bound)."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"not JSON: {exc}") from exc
    if _too_deep(doc):
        raise PayloadError(f"the JSON is nested deeper than {MAX_DEPTH} levels")
    return doc


def _too_deep(doc: Any) -> bool:
    level: list[Any] = [doc]
    for _ in range(MAX_DEPTH):
        below: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                below.extend(item.values())
            elif isinstance(item, list):
                below.extend(item)
        if not below:
            return False
        level = below
    return any(isinstance(item, dict | list) for item in level)


def clean_text(value: str) -> str:
    """Text both databases store: PostgreSQL refuses NUL, and no driver encodes a
    lone surrogate (form decoding and some JSON decoders can produce one)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def scalar_text(value: Any) -> str:
    """A JSON scalar as text ('' for null, objects and arrays, which are never
    what a text field means)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return clean_text(str(value))
    return ""


def unix_time(value: Any, *, or_millis: bool = False) -> datetime | None:
    """Unix time in seconds; None when absent or absurd. ``or_millis`` reads a value
    above 10**11 as milliseconds (no second-based time reaches that before the year 5000)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    if or_millis and abs(number) > 10**11:
        number /= 1000
    if not 0 <= number < (_LATEST - _EARLIEST).total_seconds():
        return None
    return datetime.fromtimestamp(number, UTC)


def claimed_time(value: datetime | None) -> datetime | None:
    """A caller-supplied datetime, kept only when it has a zone and a sane year."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise PayloadError("sent_at needs a time zone (for example 2026-01-31T09:00:00Z)")
    try:
        in_utc = value.astimezone(UTC)
    except OverflowError as exc:
        raise PayloadError(f"sent_at is out of range: {value.isoformat()}") from exc
    if not _EARLIEST <= in_utc < _LATEST:
        raise PayloadError(f"sent_at is out of range: {value.isoformat()}")
    return in_utc


def identity(
    kind: str, value: str, *, verified: bool = True, default_region: str | None = None
) -> IdentityRef:
    """core.identity.normalize, with its refusal as the parser's declared error."""
    try:
        return normalize(kind, value, verified=verified, default_region=default_region)
    except InvalidIdentity as exc:
        raise PayloadError(str(exc)) from exc
