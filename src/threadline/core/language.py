"""Which of the languages we write templates in a customer writes: a guess from the
short words every sentence has, cheap enough to make on every read of a conversation.

Triage does not record a language, so the intake's "ask for the missing" reads it from
the customer's own words. A guess needs a clear lead; otherwise it is None and the
caller writes English.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["MAX_GUESS_TEXT", "guess_language"]

MAX_GUESS_TEXT = 2000  # characters, the newest: enough for a few sentences
_MIN_HITS = 2


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split(" "))


_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the and is my you your to it of please i have was with this that for not "
        "hi hello thanks can could would"
    ),
    "de": _words(
        "der die das und ist ich nicht mein meine bitte mit ein eine sie ihr wir "
        "hallo danke habe auf für wurde noch"
    ),
    "es": _words(
        "el la los las que y es mi no por para con una hola gracias tengo pedido está pero muy del"
    ),
    "fr": _words(
        "le la les et est je mon ma pas vous pour une bonjour merci avec ai mes des sur ne"
    ),
}
_WORD = re.compile(r"[^\W\d_]+")


def guess_language(texts: Sequence[str]) -> str | None:
    """'en', 'de', 'es' or 'fr', or None when no language clearly leads."""
    text = " ".join(texts)[-MAX_GUESS_TEXT:].casefold()
    counts = dict.fromkeys(_WORDS, 0)
    for word in _WORD.findall(text):
        for lang, words in _WORDS.items():
            if word in words:
                counts[lang] += 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    (best, hits), (_, runner_up) = ranked[0], ranked[1]
    if hits < _MIN_HITS or hits <= runner_up:
        return None
    return best
