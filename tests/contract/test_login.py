"""Signing in: failures are recorded and throttled, unknown emails cost a password
check like known ones, and password hashing runs under a bound."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from tests.support.factories import api_client
from tests.support.servers import free_port, serving
from tests.support.ui import PASSWORD, CountingHasher, csrf_token, make_user, sign_in

from threadline.actions.users import deactivate_user
from threadline.bootstrap import Container, bootstrap
from threadline.clock import FakeClock
from threadline.settings import Settings
from threadline.storage.tables import login_failures, users
from threadline.web.app import create_app

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Most tests here check the failure throttle, which counts tries in the database:
    the per-address request budget in front of it (web/ratelimit.py) is raised out of
    their way, and the tests of that budget set their own."""
    return settings.model_copy(update={"login_requests_burst": 10_000})


async def failures(c: Container) -> list[Any]:
    return await c.db.read(
        lambda conn: conn.execute(
            sa.select(login_failures.c.email, login_failures.c.client).order_by(login_failures.c.id)
        ).all()
    )


async def test_failed_sign_ins_are_recorded_and_the_account_is_throttled_with_backoff(
    container: Container, clock: FakeClock
) -> None:
    c = container
    await make_user(c, "ana@acme.test")
    async with api_client(c) as web:
        for _ in range(5):
            wrong = await sign_in(web, "ana@acme.test", "guess")
            assert wrong.status_code == 200
            assert "Wrong email or password" in wrong.text
        assert [tuple(r) for r in await failures(c)] == [("ana@acme.test", "testclient")] * 5
        # The sixth try waits, even with the right password: a guesser learns nothing.
        locked = await sign_in(web, "ana@acme.test")
        assert locked.status_code == 429
        assert "Too many failed sign-ins" in locked.text
        assert int(locked.headers["retry-after"]) == 30
        clock.advance(seconds=31)
        again = await sign_in(web, "ana@acme.test", "guess")
        assert again.status_code == 200
        # One more failure past the limit doubles the wait.
        doubled = await sign_in(web, "ana@acme.test")
        assert doubled.status_code == 429
        assert int(doubled.headers["retry-after"]) == 60
        clock.advance(seconds=61)
        ok = await sign_in(web, "ana@acme.test")
        assert ok.status_code == 302
    assert await failures(c) == []  # the right password ends the account's run


async def test_one_address_guessing_many_accounts_is_throttled(container: Container) -> None:
    c = container
    await make_user(c, "ana@acme.test")
    async with api_client(c) as web:
        for n in range(20):
            r = await sign_in(web, f"user{n}@acme.test", "guess")
            assert r.status_code == 200
        blocked = await sign_in(web, "ana@acme.test")
        assert blocked.status_code == 429


async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    settings: Settings, clock: FakeClock
) -> None:
    """Without a trusted proxy the socket peer is the client, whatever the header says."""
    for trusted, expected in (([], 429), (["testclient"], 200)):
        c = bootstrap(
            settings.model_copy(update={"trusted_proxies": trusted}), clock=clock, senders=None
        )
        await c.start(jobs=False)
        try:
            await c.db.write(lambda tx: tx.conn.execute(login_failures.delete()))
            async with api_client(c) as web:
                for n in range(21):
                    token = await csrf_token(web)
                    r = await web.post(
                        "/login",
                        data={"email": f"u{n}@acme.test", "password": "x", "_csrf_token": token},
                        headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
                    )
                assert r.status_code == expected, trusted
        finally:
            await c.aclose()


async def test_unknown_and_deactivated_emails_run_a_password_check_like_known_ones(
    container: Container,
) -> None:
    c = container
    counter = CountingHasher()
    c.passwords.hasher = counter
    await make_user(c, "ana@acme.test")
    await make_user(c, "old@acme.test")
    await c.bus.execute(lambda tx: deactivate_user(tx, email="old@acme.test", actor="t"))
    async with api_client(c) as web:
        for email in ("ana@acme.test", "nobody@acme.test", "old@acme.test"):
            before = counter.verified
            r = await sign_in(web, email, "guess" if email == "ana@acme.test" else PASSWORD)
            assert "Wrong email or password" in r.text, email
            assert counter.verified == before + 1, email


async def test_parallel_sign_ins_hash_two_at_a_time_and_the_overflow_is_refused_fast(
    container: Container,
) -> None:
    c = container
    c.passwords.hasher = counter = CountingHasher(hold=0.5)
    c.passwords.queue = 4
    await make_user(c, "ana@acme.test")
    port = free_port()
    statuses: list[int] = []
    async with (
        serving(create_app(c, manage_lifecycle=False), port) as url,
        httpx.AsyncClient(base_url=url, timeout=60) as web,
    ):
        token = await csrf_token(web)

        async def attempt() -> None:
            r = await web.post(
                "/login",
                data={"email": "ana@acme.test", "password": PASSWORD, "_csrf_token": token},
            )
            statuses.append(r.status_code)

        async with anyio.create_task_group() as tg:
            for _ in range(16):
                tg.start_soon(attempt)
    assert counter.most_at_once == 2
    assert statuses.count(302) == counter.verified
    # At most two running and four waiting: the rest were told to come back, not queued.
    assert 503 in statuses
    assert set(statuses) <= {302, 503}


async def test_a_flood_of_sign_in_requests_from_one_address_is_refused_before_any_work(
    settings: Settings, clock: FakeClock
) -> None:
    budget = settings.model_copy(
        update={
            "login_requests_burst": 4,
            "login_requests_per_minute": 6.0,
            "login_refusal_hold_seconds": 0.05,
        }
    )
    hasher = CountingHasher()
    c = bootstrap(budget, clock=clock, senders=None)
    c.passwords.hasher = hasher
    await c.start(jobs=False)
    try:
        await make_user(c, "ana@acme.test")
        async with api_client(c) as web:
            assert (await sign_in(web, "ana@acme.test", "guess")).status_code == 200
            assert (await sign_in(web, "ana@acme.test", "guess")).status_code == 200
            flooded = await web.post("/login", data={"email": "ana@acme.test", "password": "x"})
            assert flooded.status_code == 429
            assert flooded.headers["retry-after"] == "10"
            assert "Too many sign-in requests from your address" in flooded.text
            # Refused before the form was read: no check, no failure recorded for it.
            assert hasher.verified == 2
            assert len(await failures(c)) == 2
        # Another address has its own budget.
        other = httpx.ASGITransport(app=create_app(c), client=("203.0.113.9", 1234))
        async with httpx.AsyncClient(transport=other, base_url="http://t") as web:
            assert (await web.get("/login")).status_code == 200
    finally:
        await c.aclose()


async def test_a_hash_made_with_older_parameters_is_made_again_at_the_next_good_sign_in(
    container: Container,
) -> None:
    """The argon2 profile changed (docs/decisions/0005): a hash from the old one still
    signs in, and is replaced by one with today's parameters; a failed try keeps it."""
    c = container
    user_id = await make_user(c, "ana@acme.test")
    old = PasswordHasher(time_cost=2, memory_cost=8192, parallelism=2).hash(PASSWORD)

    async def stored() -> str:
        return await c.db.read(
            lambda conn: conn.execute(
                sa.select(users.c.password_hash).where(users.c.id == user_id)
            ).scalar_one()
        )

    await c.bus.execute(
        lambda tx: tx.conn.execute(
            users.update().where(users.c.id == user_id).values(password_hash=old)
        )
    )
    assert c.passwords.needs_rehash(old)
    async with api_client(c) as web:
        assert (await sign_in(web, "ana@acme.test", "wrong password")).status_code == 200
        assert await stored() == old
        assert (await sign_in(web, "ana@acme.test")).status_code == 302
    new = await stored()
    assert new != old
    assert not c.passwords.needs_rehash(new)
    assert await c.passwords.verify(new, PASSWORD)
