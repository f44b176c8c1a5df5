"""Driving the agent UI as a browser does: users with passwords, sign-in with the
form's CSRF token, and an argon2 hasher that counts what it is asked to do."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import httpx
from argon2 import PasswordHasher

from threadline.actions.users import add_user
from threadline.bootstrap import Container

__all__ = ["PASSWORD", "CountingHasher", "csrf_token", "make_user", "sign_in"]

PASSWORD = "correct horse battery"
# STACK.md gotcha 17: argon2 at its cheapest; the tests check paths, not cost.
CHEAP = {"time_cost": 1, "memory_cost": 8192, "parallelism": 1}


async def make_user(c: Container, email: str, role: str = "agent") -> int:
    hashed = PasswordHasher(**CHEAP).hash(PASSWORD)
    return await c.bus.execute(
        lambda tx: add_user(
            tx, email=email, name=email.split("@")[0], role=role, password_hash=hashed, actor="t"
        )
    )


async def csrf_token(client: httpx.AsyncClient, path: str = "/login") -> str:
    page = await client.get(path)
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found[1]


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    token = await csrf_token(client)
    return await client.post(
        "/login",
        data={"email": email, "password": password, "_csrf_token": token},
        follow_redirects=False,
    )


class CountingHasher(PasswordHasher):
    """argon2's own hasher, counting verifications and how many ran at once.
    ``hold`` keeps each one busy a while, as a real 64 MiB check would be."""

    def __init__(self, hold: float = 0.0) -> None:
        super().__init__(**CHEAP)
        self.hold = hold
        self.verified = 0
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> Any:
        with self._lock:
            self.verified += 1
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            if self.hold:
                time.sleep(self.hold)
            return super().verify(hash, password)
        finally:
            with self._lock:
                self.running -= 1
