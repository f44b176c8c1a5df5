"""`threadline inbox add chat`: a chat inbox from the command line, checked by the
same validator as the Settings form, with the snippet and the secret printed once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from threadline.actions.inboxes import load_inbox
from threadline.cli.main import app
from threadline.core.chat_config import parse_chat_config
from threadline.storage.tables import inboxes


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {
        "THREADLINE_DATABASE_URL": f"sqlite:///{tmp_path}/t.db",
        "THREADLINE_DATA_DIR": str(tmp_path),
        "THREADLINE_SECRET_KEY": "cli-test-instance-secret",
        "THREADLINE_PUBLIC_URL": "https://help.acme.example",
    }
    assert CliRunner().invoke(app, ["migrate"], env=env).exit_code == 0
    return env


def _inboxes(env: dict[str, str]) -> list[sa.Row[tuple[object, ...]]]:
    engine = sa.create_engine(env["THREADLINE_DATABASE_URL"])
    with engine.connect() as conn:
        rows = list(conn.execute(sa.select(inboxes).order_by(inboxes.c.id)).all())
    engine.dispose()
    return rows


def test_inbox_add_chat_stores_checked_settings_and_prints_the_snippet_and_secret(
    env: dict[str, str],
) -> None:
    r = CliRunner().invoke(
        app,
        [
            "inbox",
            "add",
            "chat",
            "--address",
            "acme-site",
            "--name",
            "Acme chat",
            "--origin",
            "https://Shop.Acme.example/",
            "--origin",
            "http://localhost:3000",
            "--color",
            "#FF5500",
            "--greeting",
            "Hello!",
            "--position",
            "left",
            "--prechat",
            "off",
        ],
        env=env,
    )
    assert r.exit_code == 0, r.output
    [row] = _inboxes(env)
    config = parse_chat_config(load_inbox(row, env["THREADLINE_SECRET_KEY"]).config)
    assert config.allowed_origins == ("https://shop.acme.example", "http://localhost:3000")
    assert (config.color, config.greeting, config.position, config.prechat) == (
        "#ff5500",
        "Hello!",
        "left",
        "off",
    )
    assert row.config["identity_secret"].startswith("enc:v1:")
    assert (
        '<script src="https://help.acme.example/widget.js" data-inbox="acme-site" async></script>'
        in r.output
    )
    assert (
        f"Identity secret (for signing signed-in users, see README): {config.identity_secret}"
        in r.output
    )


def test_inbox_add_chat_without_a_key_makes_one_up_and_warns_of_no_origins(
    env: dict[str, str],
) -> None:
    r = CliRunner().invoke(app, ["inbox", "add", "chat"], env=env)
    assert r.exit_code == 0, r.output
    [row] = _inboxes(env)
    assert re.fullmatch(r"chat_[0-9a-f]{16}", row.address)
    assert f'data-inbox="{row.address}"' in r.output
    assert "No allowed origins yet: every site is refused." in r.output


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--origin", "https://shop.example/cart"], "has no path"),
        (["--origin", "http://shop.example"], "use https"),
        (["--color", "orange"], "color: a hex color"),
        (["--position", "top"], "position: one of right, left"),
        (["--prechat", "maybe"], "prechat: one of off, optional, required"),
        (["--avatar-url", "http://cdn.example/a.png"], "avatar URL: must start with https://"),
        (["--greeting", "x" * 301], "greeting: at most 300 characters"),
        (["--address", "Not A Key!"], "a chat inbox key is 3 to 64"),
    ],
)
def test_inbox_add_chat_refuses_bad_settings_with_the_reason_and_adds_nothing(
    env: dict[str, str], args: list[str], said: str
) -> None:
    r = CliRunner().invoke(app, ["inbox", "add", "chat", *args], env=env)
    assert r.exit_code == 1
    assert said in " ".join(r.output.split())  # rich may wrap a long line
    assert _inboxes(env) == []


def test_chat_options_are_refused_for_other_kinds_and_other_kinds_still_work(
    env: dict[str, str],
) -> None:
    r = CliRunner().invoke(
        app,
        ["inbox", "add", "email", "--address", "help@acme.test", "--origin", "https://a.example"],
        env=env,
    )
    assert r.exit_code == 1
    assert "--origin: only for chat inboxes" in r.output
    assert _inboxes(env) == []
    r = CliRunner().invoke(app, ["inbox", "add", "email", "--address", "Help@Acme.test"], env=env)
    assert r.exit_code == 0, r.output
    assert "help@acme.test" in r.output
    assert "widget.js" not in r.output
    missing = CliRunner().invoke(app, ["inbox", "add", "sms"], env=env)
    assert missing.exit_code == 1  # every other kind still needs its address
