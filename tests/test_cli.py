"""The command line, and the demo a new user sees after `make run`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.support.servers import free_port
from threadline.cli.main import app


def test_migrate_user_token_and_inbox(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {
        "THREADLINE_DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "THREADLINE_DATA_DIR": str(tmp_path),
    }
    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0
    r = runner.invoke(
        app, ["user", "add", "lee@acme.test", "--role", "admin", "--password", "pw"], env=env
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["user", "add", "lee@acme.test", "--password", "pw"], env=env)
    assert r.exit_code != 0  # one account per email
    r = runner.invoke(app, ["token", "add", "--user", "lee@acme.test"], env=env)
    assert r.exit_code == 0, r.output
    assert re.fullmatch(r"tl_[\w-]{40,}\n", r.output)
    r = runner.invoke(app, ["inbox", "add", "email", "--address", "Help@Acme.test"], env=env)
    assert r.exit_code == 0, r.output
    assert "help@acme.test" in r.output


@pytest.fixture
def demo(tmp_path: Path):  # type: ignore[no-untyped-def]
    port, smtp_port = free_port(), free_port()
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "THREADLINE_DATA_DIR": str(tmp_path), "PYTHONPATH": src}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "threadline",
            "demo",
            "--port",
            str(port),
            "--smtp-port",
            str(smtp_port),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            out, _ = proc.communicate()
            pytest.fail(f"demo exited: {out}")
    else:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"demo did not come up: {out}")
    yield base, proc
    proc.terminate()
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode in (0, -15), out


def test_demo_serves_login_and_a_cross_channel_timeline(demo) -> None:  # type: ignore[no-untyped-def]
    base, proc = demo
    web = httpx.Client(base_url=base, follow_redirects=False)
    form = web.get("/login")
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert csrf
    wrong = web.post(
        "/login", data={"email": "agent@acme.test", "password": "nope", "_csrf_token": csrf[1]}
    )
    assert "Wrong email or password" in wrong.text
    ok = web.post(
        "/login",
        data={
            "email": "agent@acme.test",
            "password": "threadline-demo",
            "_csrf_token": csrf[1],
        },
    )
    assert ok.status_code in (302, 303), ok.text
    assert ok.headers["location"] == "/inbox"
    inbox = web.get("/inbox")
    assert inbox.status_code == 200
    assert "Ana Souza" in inbox.text
    assert "Order #4417" in inbox.text

    # The printed token works against the API.
    token = None
    deadline = time.monotonic() + 5
    lines: list[str] = []
    assert proc.stdout is not None
    while token is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        m = re.search(r"API token: (tl_[\w-]+)", line)
        token = m[1] if m else None
    assert token, lines
    api = httpx.Client(base_url=f"{base}/api/v1", headers={"Authorization": f"Bearer {token}"})

    def customer(identity: str) -> int:
        found = api.get("/customers", params={"identity": identity}).json()
        assert len(found) == 1, (identity, found)
        return int(found[0]["id"])

    # Ana's one conversation runs from email through the app to an SMS from her phone.
    timeline = api.get(f"/customers/{customer('email:ana@example.com')}/timeline").json()
    messages = [e["message"] for e in timeline if e["message"]]
    assert {m["channel"] for m in messages} == {"email", "api", "sms"}
    assert len({m["conversation_id"] for m in messages}) == 1
    assert "channel_switched" in [e["kind"] for e in timeline]

    # Grace's voicemail left a callback owed to her number.
    grace = customer("phone:+15035550142")
    tasks = api.get("/tasks").json()
    assert [(t["kind"], t["status"], t["phone"]) for t in tasks if t["customer_id"] == grace] == [
        ("callback", "open", "+15035550142")
    ]

    # The agent's WhatsApp reply to Marco reached the sandbox: his phone shows it.
    shown = False
    deadline = time.monotonic() + 5
    while not shown and time.monotonic() < deadline:
        page = web.get("/simulator", params={"identity": "393471234567"})
        assert page.status_code == 200, page.text
        shown = "note to leave #5261 with your neighbour" in page.text
        time.sleep(0 if shown else 0.2)
    assert shown
    api.close()
    web.close()


def test_serve_runs_its_event_loop_on_uvloop_where_it_is_installed() -> None:
    """uvicorn[standard] installs uvloop, but only picks it for a loop it starts;
    `threadline serve` starts its own (cli/serve.py, run_server)."""
    import asyncio

    from threadline.cli.serve import run_server

    uvloop = pytest.importorskip("uvloop")
    seen: list[type] = []

    async def main() -> None:
        seen.append(type(asyncio.get_running_loop()))

    run_server(main())
    assert seen == [uvloop.Loop]
