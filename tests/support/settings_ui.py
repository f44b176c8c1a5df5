"""The admin settings pages as a browser drives them: an admin signed in through
the real form, posting each form with the CSRF token its pages carry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import sqlalchemy as sa

from tests.support.ui import PASSWORD, csrf_token, make_user, sign_in
from threadline.bootstrap import Container
from threadline.storage.tables import audit_log, users

__all__ = ["PAGES", "Browser", "audit", "can_sign_in", "signed_in_admin", "user_id"]

PAGES = (
    "/settings",
    "/settings/agents",
    "/settings/teams",
    "/settings/inboxes",
    "/settings/assignment",
    "/settings/tokens",
    "/settings/profile",
    "/settings/rules",
    "/settings/sla",
    "/settings/triage",
    "/settings/intake",
)


class Browser:
    """One signed-in browser: it posts forms with the token its pages carry."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path)

    async def post(
        self, path: str, data: dict[str, Any] | None = None, *, htmx: bool = False
    ) -> httpx.Response:
        token = await csrf_token(self.client, "/settings")
        headers = {"HX-Request": "true"} if htmx else {}
        return await self.client.post(
            path, data={**(data or {}), "_csrf_token": token}, headers=headers
        )


@asynccontextmanager
async def signed_in_admin(c: Container, served: str) -> AsyncIterator[Browser]:
    """Ada, an admin, signed in to the app served at ``served``."""
    await make_user(c, "ada@acme.test", role="admin")
    async with httpx.AsyncClient(base_url=served) as client:
        assert (await sign_in(client, "ada@acme.test")).status_code == 302
        yield Browser(client)


async def user_id(c: Container, email: str) -> int:
    return int(
        await c.db.read(
            lambda conn: conn.execute(sa.select(users.c.id).where(users.c.email == email)).scalar()
        )
    )


async def audit(c: Container, action: str) -> list[Any]:
    """(actor, subject, data) of each audit row for ``action``, oldest first."""
    return await c.db.read(
        lambda conn: conn.execute(
            sa.select(audit_log.c.actor, audit_log.c.subject, audit_log.c.data)
            .where(audit_log.c.action == action)
            .order_by(audit_log.c.id)
        ).all()
    )


async def can_sign_in(served: str, email: str, password: str = PASSWORD) -> bool:
    async with httpx.AsyncClient(base_url=served) as client:
        return (await sign_in(client, email, password)).status_code == 302
