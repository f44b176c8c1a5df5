"""End-to-end: the real `threadline serve` in its own process, a real SMTP sink
for the replies it sends, and Debian's Chromium driven by Playwright.

The server is the product as a user runs it (SQLite, the built-in SMTP server,
the job runner, the sandbox providers). The desk is seeded before it starts;
everything after that goes through its real doors: SMTP, signed webhooks, the
browser.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser

from tests.support.servers import Relay, free_port
from threadline.bootstrap import bootstrap
from threadline.settings import Settings
from threadline.storage.migrate import upgrade

from .seed import Desk, seed
from .site import Site

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@dataclass
class Live:
    url: str
    smtp_port: int
    sink: Relay
    desk: Desk
    database_url: str
    log: Path
    site: Site  # the business's own pages, on another origin (the chat widget's tests)


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADLINE_")}
    env.update(
        {
            "PYTHONPATH": str(ROOT / "src"),
            "THREADLINE_DATABASE_URL": settings.database_url,
            "THREADLINE_PORT": str(settings.port),
            "THREADLINE_SMTP_PORT": str(settings.smtp_port),
            "THREADLINE_SECRET_KEY": str(settings.secret_key),
            "THREADLINE_DATA_DIR": str(settings.data_dir),
            "THREADLINE_SANDBOX": "1",
            "THREADLINE_RELAY_HOST": "127.0.0.1",
            "THREADLINE_RELAY_PORT": str(settings.relay_port),
            "THREADLINE_RELAY_STARTTLS": "0",
            # No DNS here: the sender checks would judge nothing but timeouts.
            "THREADLINE_SMTP_CHECK_SENDERS": "0",
            "THREADLINE_PASSWORD_TIME_COST": "1",
            "THREADLINE_PASSWORD_MEMORY_KIB": "8192",
            "THREADLINE_PASSWORD_PARALLELISM": "1",
            # Every test signs in from this one address, dozens of times in a minute:
            # the throttle on /login (tested on its own) must not decide the suite.
            "THREADLINE_LOGIN_REQUESTS_BURST": "500",
            "THREADLINE_LOG_LEVEL": "warning",
        }
    )
    return env


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (.ci/run installs it)")
    data = tmp_path_factory.mktemp("live")
    sink = Relay()
    sink_port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=sink_port)
    controller.start()
    site = Site(free_port()).start()
    settings = Settings(
        database_url=f"sqlite:///{data / 'threadline.db'}",
        data_dir=data,
        secret_key="e2e-secret",
        port=free_port(),
        smtp_port=free_port(),
        relay_host="127.0.0.1",
        relay_port=sink_port,
        relay_starttls=False,
        sandbox=True,
        password_time_cost=1,
        password_memory_kib=8192,
        password_parallelism=1,
    )
    upgrade(settings.database_url)
    # Playwright's sync API may already run a loop on this thread: seed on another.
    with ThreadPoolExecutor(1) as pool:
        desk = pool.submit(asyncio.run, _seed(settings, site.origin)).result()
    log = data / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "threadline", "serve"],
            env=_env(settings),
            cwd=data,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = settings.base_url()
    try:
        _wait_ready(url, proc, log)
        yield Live(url, settings.smtp_port, sink, desk, settings.database_url, log, site)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        controller.stop()
        site.stop()


async def _seed(settings: Settings, site_origin: str) -> Desk:
    container = bootstrap(settings)
    await container.start(jobs=False, mailboxes=False)
    try:
        return await seed(container, site_origin)
    finally:
        await container.aclose()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"threadline serve exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"threadline serve did not become ready:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 860},
        "timezone_id": "Europe/Lisbon",
        "locale": "en-GB",
    }


@pytest.fixture(scope="session", autouse=True)
def _artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def ben_signed_in(
    browser: Browser,
    browser_context_args: dict[str, Any],
    live: Live,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """Ben's signed-in browser state (his session cookie), for contexts that start
    signed in: one sign-in serves every test that only needs an agent's screen."""
    from .support import sign_in  # support imports this module: here, not at the top

    state = tmp_path_factory.mktemp("ben") / "state.json"
    context = browser.new_context(**browser_context_args)
    try:
        sign_in(context.new_page(), live, live.desk.ben)
        context.storage_state(path=state)
    finally:
        context.close()
    return state


@pytest.fixture(scope="session")
def base_url(live: Live) -> str:
    """Ours replaces pytest-base-url's (which pytest 9 deprecates): the live server."""
    return live.url
