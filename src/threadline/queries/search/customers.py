"""Customers found by name or by any identity: an email, a phone number however it
was typed, a handle or an external id.

Identities are matched through the unique ``(kind, value)`` index: exactly, as
normalized (``Ana@Example.com``, ``+1 (415) 555-0101``), and by prefix from the
third character. A number typed without its country code ("4155550101", or a
national "07700 900123") matches the end of the E.164 value, digits only.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from threadline.core.identity import (
    IDENTITY_KINDS,
    InvalidIdentity,
    normalize_email,
    normalize_phone,
)
from threadline.queries.customers import identities_of
from threadline.queries.scope import Scope
from threadline.queries.search.terms import Terms, begins_words, like_patterns, segments
from threadline.queries.search.walk import decided_page
from threadline.storage.tables import customers, identities

__all__ = ["identity_matches", "search_customers"]

_KINDS = sorted(IDENTITY_KINDS)
_PHONE_KINDS = ("phone", "whatsapp")  # a WhatsApp id is the number's digits
_PHONE_TEXT = re.compile(r"\+?[\d\s().-]+")
_MIN_PREFIX = 3
_MIN_DIGITS = 7  # fewer would match the tail of too many numbers to mean one
# Identities one query may bring in. A prefix matching more than this says too
# little to be worth a page of customers; exact matches come first anyway.
_IDENTITY_CAP = 1_000
# Above every other code point, so p <= v < p + _TOP is "v starts with p" in
# SQLite's binary (UTF-8 byte) order.
_TOP = "\U0010ffff"


def _typed_values(text: str) -> set[str]:
    """The values ``text`` may be exactly, once normalized."""
    values = {text, text.lower()}
    if "@" in text:
        with contextlib.suppress(InvalidIdentity):
            values.add(normalize_email(text))
    if _PHONE_TEXT.fullmatch(text):
        try:
            e164 = normalize_phone(text)
        except InvalidIdentity:
            pass
        else:
            values |= {e164, e164[1:]}
    return values


def _digits(text: str) -> str | None:
    """The number's digits without a national trunk 0, if ``text`` is a number."""
    if not _PHONE_TEXT.fullmatch(text) or text.startswith("+"):
        return None
    digits = re.sub(r"\D", "", text).lstrip("0")
    return digits if len(digits) >= _MIN_DIGITS else None


def _starts_with(conn: Connection, prefix: str) -> sa.ColumnElement[bool]:
    if conn.dialect.name == "sqlite":
        return sa.and_(identities.c.value >= prefix, identities.c.value < prefix + _TOP)
    # LIKE, not a range: the range is a prefix only in a bytewise collation.
    return identities.c.value.like(_escape(prefix) + "%", escape="\\")


def _escape(text: str) -> str:
    return re.sub(r"([%_\\])", r"\\\1", text)


def identity_matches(conn: Connection, terms: Terms) -> dict[int, list[str]]:
    """Customer id -> the identities (``kind:value``) the query matched."""
    text = terms.text
    if not text:
        return {}
    matches = [identities.c.kind.in_(_KINDS) & identities.c.value.in_(sorted(_typed_values(text)))]
    prefixes = {text, text.lower()}
    if text.startswith("+") and _PHONE_TEXT.fullmatch(text):
        prefixes.add("+" + re.sub(r"\D", "", text))  # the start of an E.164 number
    if len(text) >= _MIN_PREFIX:
        for prefix in prefixes:
            matches.append(identities.c.kind.in_(_KINDS) & _starts_with(conn, prefix))
    if (digits := _digits(text)) is not None:
        matches.append(identities.c.kind.in_(_PHONE_KINDS) & identities.c.value.like("%" + digits))
    found: dict[int, list[str]] = {}
    seen: set[int] = set()
    for match in matches:
        q = sa.select(
            identities.c.id, identities.c.customer_id, identities.c.kind, identities.c.value
        )
        for r in conn.execute(q.where(match).limit(_IDENTITY_CAP)):
            if r.id not in seen and len(seen) < _IDENTITY_CAP:
                seen.add(r.id)
                found.setdefault(r.customer_id, []).append(f"{r.kind}:{r.value}")
    return found


def _looks_like_an_address(text: str) -> bool:
    """An email address or a phone number: nobody's name, so names are not read."""
    if "@" in text and " " not in text:
        return True
    return bool(_PHONE_TEXT.fullmatch(text)) and sum(c.isdigit() for c in text) >= _MIN_DIGITS


def _name_matches(conn: Connection, terms: Terms) -> sa.ColumnElement[bool] | None:
    patterns = like_patterns(terms)
    if not patterns or _looks_like_an_address(terms.text):
        return None
    # SQLite's LIKE ignores ASCII case by itself; lower() would only cost time.
    name = customers.c.name if conn.dialect.name == "sqlite" else sa.func.lower(customers.c.name)
    return sa.and_(*(sa.or_(*(name.like(p, escape="\\") for p in word)) for word in patterns))


def search_customers(
    conn: Connection,
    terms: Terms,
    *,
    scope: Scope,
    before: int | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """Newest first: ``id``, ``name``, ``segments`` (the name, highlighted),
    ``identities`` (all of them) and ``matched`` (those the query matched)."""
    by_identity = identity_matches(conn, terms)
    either = []
    if (by_name := _name_matches(conn, terms)) is not None:
        either.append(by_name)
    if by_identity:
        either.append(customers.c.id.in_(sorted(by_identity)))
    if not either:
        return []
    q = sa.select(customers.c.id, customers.c.name).where(
        customers.c.merged_into_id.is_(None), sa.or_(*either)
    )
    if (in_scope := scope.customer_clause(customers.c.id)) is not None:
        q = q.where(in_scope)
    rows = decided_page(
        conn,
        q,
        customers.c.id,
        keep=lambda r: r.id in by_identity or begins_words(r.name, terms),
        before=before,
        limit=limit,
    )
    every = identities_of(conn, [r.id for r in rows])
    return [
        {
            "id": r.id,
            "name": r.name,
            "segments": segments(r.name, terms),
            "identities": every[r.id],
            "matched": by_identity.get(r.id, []),
        }
        for r in rows
    ]
