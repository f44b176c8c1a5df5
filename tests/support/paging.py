"""Walking a paged API list the way a client does: follow X-Next-Cursor to the end."""

from __future__ import annotations

from typing import Any

__all__ = ["walk"]


async def walk(client: Any, path: str, headers: dict[str, str], **params: Any) -> list[list[Any]]:
    """Every page of ``path``, in order; fails loudly instead of looping for ever."""
    pages: list[list[Any]] = []
    cursor = None
    for _ in range(200):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = await client.get(path, params=query, headers=headers)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        cursor = r.headers.get("x-next-cursor")
        if cursor is None:
            return pages
    raise AssertionError(f"{path}: still more pages after 200")
