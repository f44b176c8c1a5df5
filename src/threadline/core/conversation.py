"""The conversation status machine.

A person moves a conversation between statuses through check_transition; a
customer writing again always makes it open (storage/inbound.touch_conversation).
"""

from __future__ import annotations

from threadline.core.model import ConversationStatus as S

__all__ = ["InvalidTransition", "check_transition"]

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
