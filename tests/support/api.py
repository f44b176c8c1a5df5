"""Calling the REST API as a token holder does."""

from __future__ import annotations

__all__ = ["auth"]


def auth(token: str) -> dict[str, str]:
    """The headers that carry an API token."""
    return {"Authorization": f"Bearer {token}"}
