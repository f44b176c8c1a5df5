"""Shared fixtures: one contract suite over SQLite and PostgreSQL.

Every test that takes ``container`` runs twice, once per database. Without a
PostgreSQL server the postgres half is skipped and named in the summary;
THREADLINE_REQUIRE_SERVICES=1 (set by .ci/run) turns that skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.support.servers import Relay, free_port, serving
from threadline.bootstrap import Container, bootstrap
from threadline.clock import FakeClock
from threadline.settings import Settings
from threadline.storage.migrate import upgrade
from threadline.storage.tables import metadata
from threadline.web.app import create_app

PG_ADMIN_URL = os.environ.get("THREADLINE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE = os.environ.get("THREADLINE_REQUIRE_SERVICES") == "1"

pytest_plugins = ["tests.support.dovecot_fixture"]


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The browser tests run in a session of their own (`make test` runs both): the
    Playwright sync API keeps an event loop running for the whole session, and every
    async test after it would find that loop in its way."""
    if collection_path.name != "e2e" or collection_path.parent.name != "tests":
        return None
    asked = [str(a) for a in config.args]
    return not any("tests/e2e" in a or a.startswith("e2e") for a in asked)


# Fuzzing: CI runs a fixed short budget ("ci", the default, derandomized so a
# red run reproduces); `make fuzz` runs the long one (--hypothesis-profile=long).
_FUZZ_CHECKS = [HealthCheck.too_slow, HealthCheck.data_too_large]
hypothesis_settings.register_profile(
    "ci", max_examples=150, deadline=None, derandomize=True, suppress_health_check=_FUZZ_CHECKS
)
hypothesis_settings.register_profile(
    "long", max_examples=20_000, deadline=None, suppress_health_check=_FUZZ_CHECKS
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def missing_service(name: str, why: str) -> None:
    message = f"{name} unavailable: {why}"
    if REQUIRE:
        pytest.fail(message + " (THREADLINE_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; each test copies the file (much faster than migrating)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    name = f"threadline_test_{uuid.uuid4().hex[:8]}"
    try:
        admin = sa.create_engine(_pg(PG_ADMIN_URL), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        missing_service("PostgreSQL", str(exc).splitlines()[0])
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _pg(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "threadline.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    engine = sa.create_engine(_pg(url))
    with engine.begin() as conn:
        names = ", ".join(t.name for t in metadata.sorted_tables)
        conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    engine.dispose()
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app_port() -> int:
    """Chosen before the container is built, so our base URL (and the sandbox base
    the senders use, base_url() + "/sandbox") is the port ``served`` listens on:
    replies travel over real HTTP into the sandbox."""
    return free_port()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, app_port: int) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path,
        secret_key="test-secret",
        smtp_port=0,
        run_jobs=False,
        port=app_port,
        sandbox=True,  # tests reach the provider stand-ins; production mounts none
        # argon2 at its cheapest (STACK.md gotcha 17): the cost is not what tests check
        password_time_cost=1,
        password_memory_kib=8192,
        password_parallelism=1,
    )


@pytest.fixture
def senders() -> dict[str, Any] | None:
    """Override in a test module to capture outbound messages."""
    return None


@pytest.fixture
async def container(settings: Settings, clock: FakeClock, senders: Any) -> AsyncIterator[Container]:
    c = bootstrap(settings, clock=clock, senders=senders)
    await c.start(jobs=False)
    yield c
    await c.aclose()


@pytest.fixture
async def served(container: Container, app_port: int) -> AsyncIterator[str]:
    """The whole app (webhooks, API, UI, sandbox) on a real uvicorn; yields its base URL."""
    app = create_app(container, manage_lifecycle=False)
    async with serving(app, app_port) as url:
        yield url
    await app.state.hub.stop()  # started by the first live stream, if any


@pytest.fixture
def relay() -> Iterator[tuple[Relay, int]]:
    """A local SMTP relay; a module sending email through it overrides ``senders``."""
    handler = Relay()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()
