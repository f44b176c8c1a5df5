"""Conversation tags: what an agent types, made into one comparable form."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MAX_TAGS", "MAX_TAG_LENGTH", "InvalidTag", "normalize_tag", "normalize_tags"]

MAX_TAGS = 20  # per conversation
MAX_TAG_LENGTH = 50  # the column's width
_ALLOWED = re.compile(r"[\w -]+")
_SPACES = re.compile(r"\s+")


class InvalidTag(ValueError):
    pass


def normalize_tag(raw: str) -> str:
    """``"  VIP  Customer "`` -> ``"vip customer"``: stripped, lowercased, one space
    between words; letters, digits, ``_``, ``-`` and spaces only, 1 to 50 characters."""
    tag = _SPACES.sub(" ", raw.strip()).lower()
    if not tag:
        raise InvalidTag("a tag cannot be empty")
    if len(tag) > MAX_TAG_LENGTH:
        raise InvalidTag(f"a tag has at most {MAX_TAG_LENGTH} characters")
    if not _ALLOWED.fullmatch(tag):
        raise InvalidTag(f"tag {tag!r}: use letters, digits, spaces, '-' and '_' only")
    return tag


def normalize_tags(raw: Iterable[str]) -> list[str]:
    """Each tag normalized, duplicates dropped, in the order given."""
    return list(dict.fromkeys(normalize_tag(t) for t in raw))
