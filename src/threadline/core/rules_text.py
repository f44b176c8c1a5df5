"""Words for rule text conditions: case- and accent-insensitive, on word boundaries.

A term and a message are cut into words the same way, so "Card declined",
"card-declined" and "CARD  DÉCLINED" all meet the term "card declined", and
"refund" never matches inside "refunded". Fast: ASCII text (most of it) stays
at C speed; other text is decomposed once and its combining marks dropped.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_SCAN", "fold", "padded", "words"]

# A rule reads at most this much of a message: the start of a long email says
# what it is about, and a megabyte of text must not cost a megabyte of scanning.
MAX_SCAN = 20_000

_WORD = re.compile(r"\w+")
# The combining blocks: Latin, Greek and Cyrillic accents, and their extensions.
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def fold(text: str) -> str:
    """Lower case without accents: "Rückerstattung" folds to "ruckerstattung"."""
    if text.isascii():
        return text.lower()
    return _MARKS.sub("", unicodedata.normalize("NFKD", text)).casefold()


def words(text: str) -> list[str]:
    """The folded words of ``text`` (its first MAX_SCAN characters), in order."""
    return _WORD.findall(fold(text[:MAX_SCAN]))


def padded(tokens: list[str]) -> str:
    """The words joined by single spaces with a space at each end, so that a
    phrase is found on word boundaries by a plain substring search."""
    return f" {' '.join(tokens)} "
