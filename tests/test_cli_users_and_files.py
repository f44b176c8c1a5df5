"""The CLI's user commands, and the files an instance creates: private to its user."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from threadline.bootstrap import bootstrap
from threadline.cli.main import app
from threadline.settings import Settings
from threadline.storage.tables import sessions, users


@pytest.fixture
def loose_umask() -> Iterator[None]:
    """The usual 022, under which files are world-readable unless made otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_migrate_creates_the_sqlite_file_private(tmp_path: Path, loose_umask: None) -> None:
    db = tmp_path / "fresh" / "threadline.db"
    env = {"THREADLINE_DATABASE_URL": f"sqlite:///{db}", "THREADLINE_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(app, ["migrate"], env=env)
    assert result.exit_code == 0, result.output
    assert mode(db) == 0o600
    assert mode(db.parent) == 0o700


def test_bootstrap_creates_the_data_dir_and_secret_private(
    tmp_path: Path, loose_umask: None
) -> None:
    data = tmp_path / "data"
    c = bootstrap(
        Settings(database_url=f"sqlite:///{data}/threadline.db", data_dir=data, smtp_port=0)
    )
    c.db.close()
    assert mode(data) == 0o700
    assert mode(data / "threadline.db") == 0o600
    assert mode(data / "threadline.secret") == 0o600


def test_set_role_and_deactivate_from_the_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path}/t.db"
    env = {"THREADLINE_DATABASE_URL": url, "THREADLINE_DATA_DIR": str(tmp_path)}
    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0
    add = ["user", "add", "lee@acme.test", "--role", "admin", "--password", "pw"]
    assert runner.invoke(app, add, env=env).exit_code == 0
    r = runner.invoke(app, ["user", "set-role", "lee@acme.test", "viewer"], env=env)
    assert r.exit_code == 0, r.output
    wrong = runner.invoke(app, ["user", "set-role", "lee@acme.test", "owner"], env=env)
    assert wrong.exit_code == 1
    assert "role must be one of" in wrong.output
    r = runner.invoke(app, ["user", "deactivate", "lee@acme.test"], env=env)
    assert r.exit_code == 0, r.output
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(sa.select(users.c.role, users.c.deactivated_at)).one()
        assert conn.execute(sa.select(sessions)).all() == []
    engine.dispose()
    assert row.role == "viewer"
    assert row.deactivated_at is not None
    missing = runner.invoke(app, ["user", "deactivate", "nobody@acme.test"], env=env)
    assert missing.exit_code == 1
