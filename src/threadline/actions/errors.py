"""Errors actions raise for requests that cannot be carried out as asked."""

from __future__ import annotations

__all__ = ["ActionError", "Conflict", "NotFound"]


class ActionError(ValueError):
    """The request is understood but not allowed; the message says why (HTTP 422)."""


class NotFound(ActionError):
    """The thing named does not exist (HTTP 404)."""


class Conflict(ActionError):
    """The request clashes with the current state (HTTP 409)."""
