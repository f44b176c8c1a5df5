"""The conversation status machine.

A person moves a conversation between statuses through check_transition; a
customer writing again always makes it open (storage/inbound.touch_conversation),
and a snoozed one also opens when its time comes (actions/snooze.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from threadline.core.model import ConversationStatus as S

__all__ = ["MAX_SNOOZE", "InvalidTransition", "check_snooze", "check_transition"]

# Longer than any follow-up a desk plans; a typo in the year is refused, not obeyed.
MAX_SNOOZE = timedelta(days=366)

_ALLOWED: dict[S, frozenset[S]] = {
    S.OPEN: frozenset({S.PENDING, S.SNOOZED, S.RESOLVED}),
    S.PENDING: frozenset({S.OPEN, S.SNOOZED, S.RESOLVED}),
    S.SNOOZED: frozenset({S.OPEN, S.PENDING, S.RESOLVED}),
    S.RESOLVED: frozenset({S.OPEN}),
}


class InvalidTransition(ValueError):
    pass


def check_transition(current: S, target: S) -> None:
    """Raise unless a person may move a conversation from ``current`` to ``target``.

    A resolved conversation can only be reopened; going straight from resolved
    to pending or snoozed would hide that anyone looked at it again.
    """
    if current is target:
        return
    if target not in _ALLOWED[current]:
        raise InvalidTransition(f"cannot move a {current.value} conversation to {target.value}")


def check_snooze(until: datetime | None, now: datetime) -> datetime:
    """The time a snooze ends: given, aware, in the future and within MAX_SNOOZE."""
    if until is None:
        raise InvalidTransition("snoozing needs a time to wake the conversation")
    if until.tzinfo is None:
        raise InvalidTransition("the snooze time needs a time zone")
    if until <= now:
        raise InvalidTransition("the snooze time must be in the future")
    if until - now > MAX_SNOOZE:
        raise InvalidTransition(f"a conversation can be snoozed for at most {MAX_SNOOZE.days} days")
    return until
