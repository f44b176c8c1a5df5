"""Keyset paging for every list in the API, with one opaque cursor.

A page ends where its sort key ends: the next page starts strictly after the
last row's (sort value, id), so rows sharing a sort value are neither repeated
nor skipped, and rows written meanwhile do not shift the pages. The cursor is
that key, JSON in URL-safe base64: opaque to clients (they pass back the
``X-Next-Cursor`` header as ``?cursor=``), and checked like any input when it
comes back. It is not signed: a forged cursor only starts a page elsewhere in
rows the caller may read anyway.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import msgspec
from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.exceptions import ValidationException

from threadline.web.api.params import MAX_ID, NEXT_CURSOR
from threadline.web.schemas import to_model

__all__ = ["PAGED", "decode_cursor", "encode_cursor", "page"]

T = TypeVar("T")
K = TypeVar("K")

PAGED = [
    ResponseHeader(
        name=NEXT_CURSOR,
        description="Present when more rows follow: pass it as ?cursor= for the next page.",
        documentation_only=True,
    )
]


def encode_cursor(key: Any) -> str:
    """The opaque cursor for ``key``, for a list that pages without ``page`` (lists
    inside a body, or paged on a key of their own)."""
    raw = msgspec.json.encode(key)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str | None, key: type[K]) -> K | None:
    """The key a cursor holds, typed as ``key`` (``int``, ``tuple[datetime, int]``);
    anything else is the client's mistake, answered 400."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = msgspec.json.decode(raw, type=key)
    except (binascii.Error, ValueError, msgspec.DecodeError) as exc:
        raise ValidationException("cursor is not one this API gave out") from exc
    ints = value if isinstance(value, tuple) else (value,)
    if any(isinstance(v, int) and not 0 < v <= MAX_ID for v in ints):
        raise ValidationException("cursor is not one this API gave out")
    if any(isinstance(v, datetime) and v.tzinfo is None for v in ints):
        raise ValidationException("cursor is not one this API gave out")
    return value


def page(
    rows: Sequence[Any],
    limit: int,
    key: Callable[[Any], Any],
    model: type[T],
) -> Response[list[T]]:
    """``rows`` read with ``limit + 1``: the extra row only says another page exists."""
    items = to_model(rows[:limit], list[model])  # type: ignore[valid-type]
    headers = {}
    if len(rows) > limit:
        headers[NEXT_CURSOR] = encode_cursor(key(rows[limit - 1]))
    return Response(items, headers=headers)
