"""Customer attributes and names as agents edit them: checked, bounded.

Attributes are facts an agent keeps about a customer ("plan": "pro",
"account id": "A-1093"): string keys and string values, a handful per customer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

__all__ = [
    "MAX_CHANGES",
    "MAX_KEYS",
    "MAX_KEY_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_VALUE_LENGTH",
    "InvalidAttributes",
    "apply_changes",
    "check_key",
    "check_name",
    "check_value",
]

MAX_KEYS = 50
MAX_KEY_LENGTH = 64
MAX_VALUE_LENGTH = 500
MAX_NAME_LENGTH = 200
# More changes than keys can exist at once is a mistake or an attack.
MAX_CHANGES = 2 * MAX_KEYS

_KEY = re.compile(r"[\w .-]+")


class InvalidAttributes(ValueError):
    """The change cannot be made; the message says why."""


def _printable(text: str, *, lines: bool) -> bool:
    # Control characters show as nothing, and PostgreSQL refuses NUL in text;
    # a lone surrogate (JSON can carry one) cannot even be encoded.
    allowed = "\n\t" if lines else ""
    return not any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in text)


def check_key(key: str) -> str:
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidAttributes(f"an attribute name has 1 to {MAX_KEY_LENGTH} characters")
    if not _KEY.fullmatch(key) or key != key.strip():
        raise InvalidAttributes(
            f"attribute {key!r}: letters, digits, spaces, '_', '.' and '-' only, "
            "without spaces at either end"
        )
    return key


def check_value(key: str, value: str) -> str:
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidAttributes(f"attribute {key!r}: at most {MAX_VALUE_LENGTH} characters")
    if not _printable(value, lines=True):
        raise InvalidAttributes(f"attribute {key!r}: control characters are not allowed")
    return value


def apply_changes(current: Mapping[str, str], changes: Mapping[str, str | None]) -> dict[str, str]:
    """``current`` with ``changes`` applied: a value sets its key, None removes it."""
    if len(changes) > MAX_CHANGES:
        raise InvalidAttributes(f"at most {MAX_CHANGES} attribute changes at once")
    out = dict(current)
    for key, value in changes.items():
        check_key(key)
        if value is None:
            out.pop(key, None)
        else:
            out[key] = check_value(key, value)
    if len(out) > MAX_KEYS:
        raise InvalidAttributes(f"a customer has at most {MAX_KEYS} attributes")
    return out


def check_name(name: str) -> str:
    """The name as stored: trimmed, 1 to MAX_NAME_LENGTH characters, one line."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise InvalidAttributes(f"a name has 1 to {MAX_NAME_LENGTH} characters")
    if not _printable(name, lines=False):
        raise InvalidAttributes("a name cannot hold control characters")
    return name
