"""Triage: what a message is about, whether it is urgent or sensitive, and where to answer.

Rule-based and explainable: every decision lists the terms that made it ("matched
'card declined' → billing, urgent") and why the reply channel was picked. It runs
inline on every inbound message, so it is one regex scan over at most the first
``MAX_SCAN`` characters and a few dictionary lookups (bench/triage.py measures it).
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass

from threadline.core.lexicon import Lexicon, LexiconError, fold, parse_lexicon
from threadline.core.lexicon_default import DEFAULT_LEXICON_DATA
from threadline.core.model import Channel

__all__ = [
    "DEFAULT_LEXICON",
    "MAX_SCAN",
    "Category",
    "Decision",
    "LexiconError",
    "classify",
    "parse_lexicon",
    "recommend_channel",
]

# The subject and the first lines say what a message is about; a pasted log or a
# quoted thread below them only costs time.
MAX_SCAN = 4096
_MAX_REASONS = 12
# Longer than this, a message is a letter: answer it in writing.
_LONG_TEXT = 1200


class Category(enum.StrEnum):
    SALES = "sales"
    BILLING = "billing"
    TECHNICAL = "technical"
    LOGISTICS = "logistics"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Decision:
    category: Category
    urgent: bool
    sensitive: bool
    channel: Channel | None  # the recommended reply channel; None: nowhere to reach them
    reasons: tuple[str, ...]


DEFAULT_LEXICON = parse_lexicon(DEFAULT_LEXICON_DATA)

_SHOWN = {
    "urgent": "urgent",
    "calm": "not urgent",
    "sensitive": "sensitive",
    "detail": "written detail",
    "quick": "quick update",
}


def classify(
    text: str,
    channel: Channel,
    lexicon: Lexicon = DEFAULT_LEXICON,
    *,
    reachable: Collection[Channel] | None = None,
    attachments: int = 0,
) -> Decision:
    """Triage one message that came in on ``channel``. ``reachable``: the channels the
    customer can be answered on (None: not known, any); ``attachments``: how many
    files came with it (documents are answered in writing)."""
    scores: dict[str, int] = {}
    flags: set[str] = set()
    reasons: list[str] = []
    seen: set[str] = set()
    # Each distinct match once, in the order of its first place in the text.
    for matched in dict.fromkeys(lexicon.pattern.findall(fold(text[:MAX_SCAN]))):
        term, labels = lexicon.lookup(matched)
        if term in seen:  # 'refunds' and 'refunded' are both 'refund*'
            continue
        seen.add(term)
        for label in labels:
            if label in _SHOWN:
                flags.add(label)
            else:
                scores[label] = scores.get(label, 0) + 1
        if len(reasons) < _MAX_REASONS:
            shown = ", ".join(_SHOWN.get(label, label) for label in labels)
            reasons.append(f"matched '{term}' → {shown}")

    category = Category.OTHER
    if scores:
        # dicts keep insertion order, so a tie goes to the category named first
        best = max(scores, key=lambda c: scores[c])
        category = Category(best)
        if len(scores) > 1:
            ranked = sorted(scores.items(), key=lambda kv: -kv[1])
            reasons.append("category " + " > ".join(f"{c} ({s})" for c, s in ranked))
    else:
        reasons.append("no category terms → other")
    urgent = "urgent" in flags and "calm" not in flags
    if "urgent" in flags and not urgent:
        reasons.append("not urgent: the customer says it can wait")
    detail = "detail" in flags or len(text) > _LONG_TEXT or attachments > 0
    if attachments > 0:
        reasons.append(f"{attachments} attached file{'s' if attachments > 1 else ''}")
    reply, why = recommend_channel(
        channel, urgent=urgent, detail=detail, quick="quick" in flags, reachable=reachable
    )
    reasons.append(why)
    return Decision(category, urgent, "sensitive" in flags, reply, tuple(reasons))


# Channels the customer writes on in real time or by short messages.
_MESSAGING = (
    Channel.SMS,
    Channel.WHATSAPP,
    Channel.TELEGRAM,
    Channel.MESSENGER,
    Channel.INSTAGRAM,
    Channel.CHAT,
)


def recommend_channel(
    inbound: Channel,
    *,
    urgent: bool,
    detail: bool,
    quick: bool,
    reachable: Collection[Channel] | None = None,
) -> tuple[Channel | None, str]:
    """The channel map: urgent and high-stakes → a phone call; detail, documents and
    approvals → email; quick updates and confirmations → SMS or chat; otherwise the
    channel the customer wrote on. Never a channel outside ``reachable``."""
    if urgent:
        wanted, why = [Channel.VOICE, inbound, Channel.SMS, Channel.WHATSAPP], "urgent"
    elif detail:
        wanted, why = [Channel.EMAIL, inbound], "needs detail or documents"
    elif quick:
        first = [inbound] if inbound in _MESSAGING else []
        wanted, why = [*first, Channel.SMS, Channel.CHAT, Channel.WHATSAPP], "quick update"
    else:
        wanted, why = [inbound], "where the customer wrote"
    can = None if reachable is None else set(reachable)
    for choice in wanted:
        if can is None or choice in can:
            return choice, f"reply by {choice.value}: {why}"
    fallback = next(
        (c for c in (inbound, Channel.EMAIL, *_MESSAGING, Channel.VOICE) if can and c in can),
        None,
    )
    if fallback is None:
        return None, "no channel to reply on"
    return fallback, f"reply by {fallback.value}: {why}, but only {fallback.value} reaches them"
